// config.json and generation_config.json of an exported HuggingFace directory.
#include <nlohmann/json.hpp>

#include "press/hf_export.h"

namespace trapetum {
namespace {

using nlohmann::ordered_json;

const char* torch_dtype_name(DType t) {
  switch (t) {
    case DType::kF32: return "float32";
    case DType::kBF16: return "bfloat16";
    default: return "float16";
  }
}

const char* architecture(Arch a) {
  switch (a) {
    case Arch::kQwen2: return "Qwen2ForCausalLM";
    case Arch::kMistral: return "MistralForCausalLM";
    default: return "LlamaForCausalLM";
  }
}

ordered_json token_or_null(int32_t id) { return id >= 0 ? ordered_json(id) : ordered_json(nullptr); }

}  // namespace

std::string hf_config_json(const ModelConfig& c, DType dtype, const TokenizerSpec& tok) {
  ordered_json j;
  j["architectures"] = {architecture(c.arch)};
  j["model_type"] = arch_name(c.arch);
  if (!c.name.empty()) j["_name_or_path"] = c.name;
  j["hidden_size"] = c.dim;
  j["intermediate_size"] = c.hidden_dim;
  j["num_hidden_layers"] = c.n_layers;
  j["num_attention_heads"] = c.n_heads;
  j["num_key_value_heads"] = c.n_kv_heads;
  j["head_dim"] = c.head_dim;
  j["hidden_act"] = "silu";
  j["max_position_embeddings"] = c.max_seq_len;
  j["rms_norm_eps"] = c.norm_eps;
  j["rope_theta"] = c.rope_theta;
  const RopeScaling& s = c.rope_scaling;
  if (s.type == RopeScaling::Type::kLlama3) {
    j["rope_scaling"] = {{"rope_type", "llama3"},
                         {"factor", s.factor},
                         {"low_freq_factor", s.low_freq_factor},
                         {"high_freq_factor", s.high_freq_factor},
                         {"original_max_position_embeddings", s.original_max_positions}};
  } else if (s.type == RopeScaling::Type::kLinear) {
    j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", s.factor}};
  } else {
    j["rope_scaling"] = nullptr;
  }
  j["tie_word_embeddings"] = c.tied_embeddings;
  j["vocab_size"] = c.vocab_size;
  j["bos_token_id"] = token_or_null(tok.bos_id);
  j["eos_token_id"] = token_or_null(tok.eos_id);
  if (tok.pad_id >= 0) j["pad_token_id"] = tok.pad_id;
  j["initializer_range"] = 0.02;
  j["attention_dropout"] = 0.0;
  if (c.arch == Arch::kQwen2) {
    j["use_sliding_window"] = false;
    j["sliding_window"] = nullptr;
    j["max_window_layers"] = c.n_layers;
  } else {
    j["attention_bias"] = c.qkv_bias;
    j["mlp_bias"] = false;
    if (c.arch == Arch::kMistral)
      j["sliding_window"] = c.sliding_window > 0 ? ordered_json(c.sliding_window) : ordered_json(nullptr);
  }
  j["use_cache"] = true;
  j["torch_dtype"] = torch_dtype_name(dtype);
  return j.dump(2) + "\n";
}

std::string hf_generation_config_json(const TokenizerSpec& tok) {
  ordered_json j;
  if (tok.bos_id >= 0) j["bos_token_id"] = tok.bos_id;
  ordered_json eos = ordered_json::array();
  if (tok.eos_id >= 0) eos.push_back(tok.eos_id);
  for (int32_t id : tok.eog_ids)
    if (id != tok.eos_id) eos.push_back(id);
  if (eos.size() == 1) j["eos_token_id"] = eos[0];
  else if (!eos.empty()) j["eos_token_id"] = eos;
  if (tok.pad_id >= 0) j["pad_token_id"] = tok.pad_id;
  return j.dump(2) + "\n";
}

}  // namespace trapetum
