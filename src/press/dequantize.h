// dequantize: writes any loaded model (typically a .cbk) as a HuggingFace safetensors
// directory that transformers and Model::load read, one tensor in memory at a time.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/tensor.h"
#include "model/config.h"
#include "tokenizer/tokenizer.h"

namespace trapetum {

class Model;

// What an HF directory is written from: a config, a tokenizer and tensors by canonical name
// that read() delivers one at a time as f32, in the source's RoPE layout.
struct HfExportSource {
  ModelConfig config;
  TokenizerSpec tokenizer;
  std::vector<std::pair<std::string, std::vector<int64_t>>> tensors;  // canonical name, shape
  std::function<Status(const std::string& name, std::vector<float>* out)> read;
};

struct DequantizeOptions {
  DType dtype = DType::kF32;  // F32, F16 or BF16
  bool force = false;         // replace an existing output directory
  // Set (e.g. by SIGINT) to stop between tensors; the partial directory is removed.
  const std::atomic<bool>* cancel = nullptr;
  // Called before each tensor (1-based index) and once with an empty name at the end.
  std::function<void(int index, int total, const std::string& name)> progress;
};

struct DequantizeReport {
  int tensors = 0;
  int64_t params = 0;
  uint64_t bytes = 0;  // of model.safetensors
  double seconds = 0;
};

// Writes config.json, generation_config.json, model.safetensors, tokenizer.json and
// tokenizer_config.json into dir.tmp-<pid>, then renames it onto dir. Interleaved-RoPE Q/K
// rows are permuted back to the rotate-half layout; rope_freqs is dropped (the config
// carries rope_scaling).
Result<DequantizeReport> write_hf_dir(const HfExportSource& src, const std::string& dir, const DequantizeOptions& o);

// The export source of a loaded model (rows decoded with dequantize_row, outliers included).
HfExportSource export_source(const Model& model);
Result<DequantizeReport> dequantize_model(const Model& model, const std::string& dir, const DequantizeOptions& o);

// Interleaved (GGUF llama) rows of one Q or K matrix back to HF's rotate-half order, in place:
// per head of head_dim rows, hf[s * head_dim/2 + i] = gguf[2 i + s]. cols = 1 for biases.
void unpermute_rope_rows(std::vector<float>* w, int n_heads, int head_dim, int64_t cols);
// The inverse: hf[s * head_dim/2 + i] goes to row 2 i + s.
void permute_rope_rows(std::vector<float>* w, int n_heads, int head_dim, int64_t cols);
// Brings one tensor (canonical name, f32 values) from one RoPE layout to the other; only
// attn_q / attn_k weights and biases change.
void convert_rope_layout(std::vector<float>* w, const std::string& name, const std::vector<int64_t>& shape,
                         const ModelConfig& c, RopeLayout from, RopeLayout to);

}  // namespace trapetum
