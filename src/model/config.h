// ModelConfig: the hyper-parameters of a Llama-family transformer, read from GGUF metadata
// or a HuggingFace config.json, validated once.
#pragma once

#include <string>

#include <vector>

#include "core/result.h"
#include "kernels/rope_layout.h"

namespace trapetum {

class GgufFile;

enum class Arch { kLlama, kMistral, kQwen2 };

struct RopeScaling {
  enum class Type { kNone, kLinear, kLlama3 };
  Type type = Type::kNone;
  double factor = 1.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  double original_max_positions = 8192;
};

struct ModelConfig {
  Arch arch = Arch::kLlama;
  std::string arch_name;  // as the source spells it: llama, mistral, qwen2
  std::string name;       // human-readable model name, if the source has one
  int dim = 0;            // hidden size
  int n_layers = 0;
  int n_heads = 0;
  int n_kv_heads = 0;
  int head_dim = 0;
  int hidden_dim = 0;     // feed-forward size
  int vocab_size = 0;
  int max_seq_len = 0;    // trained context length
  double norm_eps = 1e-5;
  double rope_theta = 10000.0;
  int rope_dim = 0;       // rotated dimensions per head (== head_dim for supported models)
  RopeScaling rope_scaling;
  RopeLayout rope_layout = RopeLayout::kHalf;
  int sliding_window = 0;  // 0 = full causal attention
  bool qkv_bias = false;
  bool tied_embeddings = false;

  Status validate(const std::string& source) const;
};

const char* arch_name(Arch a);

Result<ModelConfig> config_from_gguf(const GgufFile& gguf);
Result<ModelConfig> config_from_hf_json(const std::string& config_json_path);

// Per-frequency inverse wavelengths (head_dim/2 values) after rope scaling, computed the
// way HF does in float32.
std::vector<float> rope_inv_freq(const ModelConfig& c);

}  // namespace trapetum
