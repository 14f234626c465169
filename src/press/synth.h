// synth: writes a random-weight model of an exact published shape (GGUF file or HuggingFace
// safetensors directory) with a working tokenizer, so benchmarks run at real sizes without
// downloading weights. Deterministic: the same options give the same bytes.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/tensor.h"
#include "model/config.h"

namespace trapetum {

class ThreadPool;

// A model shape as published (head_dim = dim / n_heads for all of them).
struct SynthPreset {
  std::string name;         // e.g. "llama-2-7b"
  std::string description;  // e.g. "Llama 2 7B"
  Arch arch = Arch::kLlama;  // HF model_type; GGUF uses "llama" for llama and mistral, "qwen2" for qwen2
  int dim = 0, n_layers = 0, n_heads = 0, n_kv_heads = 0, hidden_dim = 0, vocab_size = 0, max_seq_len = 0;
  double rope_theta = 10000.0;
  double norm_eps = 1e-5;
  RopeScaling rope_scaling;
  bool qkv_bias = false;
  bool tied_embeddings = false;
};

const std::vector<SynthPreset>& synth_presets();
Result<SynthPreset> find_synth_preset(const std::string& name);

enum class SynthFormat { kGguf, kSafetensors };

struct SynthOptions {
  std::string preset;
  std::string out;                // ends in .gguf: a GGUF file; otherwise a safetensors directory
  int layers = 0;                 // > 0 overrides the preset's layer count
  uint64_t seed = 0;
  double outlier_cols = 0;        // fraction of input columns of linear weights scaled x10..x20
  DType dtype = DType::kF16;      // 2-D weights (GGUF 1-D norms/biases are always F32)
  bool force = false;             // replace an existing output
  int64_t max_shard_bytes = 5'000'000'000;  // safetensors shard limit (HF's "5GB")
  // Set (e.g. by SIGINT) to stop between slabs; nothing is left behind.
  const std::atomic<bool>* cancel = nullptr;
};

// What a tensor holds; decides how its values are drawn.
enum class SynthKind { kEmbedding, kLinear, kNorm, kBias, kRopeFreqs };

struct SynthTensor {
  std::string name;       // as stored: GGUF ("blk.0.attn_q.weight") or HF ("model.layers.0...")
  std::string canonical;  // GGUF-style name; seeds the values, so both formats hold the same model
  SynthKind kind = SynthKind::kLinear;
  DType dtype = DType::kF16;
  std::vector<int64_t> shape;  // outermost first
  int rope_heads = 0;     // > 0: rows are stored in GGUF's interleaved RoPE order for this many heads
  int shard = 0;          // safetensors shard index
  int64_t bytes = 0;
};

struct SynthPlan {
  SynthPreset preset;     // with the layer override applied
  SynthFormat format = SynthFormat::kGguf;
  std::vector<SynthTensor> tensors;  // in file order
  int n_shards = 1;
  int64_t total_bytes = 0;           // tensor data
};

// The tensor table and sizes, without generating anything.
Result<SynthPlan> plan_synth(const SynthOptions& o);

struct SynthProgress {
  int tensor = 0;           // 0-based index of the tensor being written
  int n_tensors = 0;
  std::string_view name;
  bool tensor_done = false;  // this report ends the tensor
  int64_t bytes_done = 0, bytes_total = 0;
  double seconds = 0;       // since generation started
};
using SynthProgressFn = std::function<void(const SynthProgress&)>;

// Generates and writes the model (atomically: a temporary file or directory next to o.out is
// renamed onto it at the end). Refuses an existing o.out unless o.force.
Status synth_model(const SynthOptions& o, ThreadPool& pool, const SynthProgressFn& progress);

}  // namespace trapetum
