// Model metadata of a synthesized model: GGUF keys (llama / qwen2 conventions) and the HF
// config.json and generation_config.json that transformers and our loader read.
#include <nlohmann/json.hpp>

#include "press/synth_internal.h"

namespace trapetum {
namespace {

using nlohmann::ordered_json;

const char* torch_dtype(DType t) {
  switch (t) {
    case DType::kF32: return "float32";
    case DType::kBF16: return "bfloat16";
    default: return "float16";
  }
}

}  // namespace

GgufMetadata synth_gguf_metadata(const SynthPlan& plan, const SynthOptions& o, const SynthVocab& v) {
  const SynthPreset& p = plan.preset;
  // llama.cpp writes Mistral as "llama"; our loader reads both the same way.
  const std::string arch = p.arch == Arch::kQwen2 ? "qwen2" : "llama";
  const std::string a = arch + ".";
  const uint32_t file_type = o.dtype == DType::kF32 ? 0 : o.dtype == DType::kF16 ? 1 : 32;  // llama_ftype
  GgufMetadata kv;
  kv.emplace_back("general.architecture", gguf_string(arch));
  kv.emplace_back("general.name", gguf_string("synth " + p.name));
  kv.emplace_back("general.file_type", gguf_u32(file_type));
  kv.emplace_back("trapetum.synth.preset", gguf_string(p.name));
  kv.emplace_back("trapetum.synth.seed", gguf_u64(o.seed));
  kv.emplace_back("trapetum.synth.outlier_cols", gguf_f32(float(o.outlier_cols)));
  kv.emplace_back(a + "context_length", gguf_u32(uint32_t(p.max_seq_len)));
  kv.emplace_back(a + "embedding_length", gguf_u32(uint32_t(p.dim)));
  kv.emplace_back(a + "block_count", gguf_u32(uint32_t(p.n_layers)));
  kv.emplace_back(a + "feed_forward_length", gguf_u32(uint32_t(p.hidden_dim)));
  kv.emplace_back(a + "attention.head_count", gguf_u32(uint32_t(p.n_heads)));
  kv.emplace_back(a + "attention.head_count_kv", gguf_u32(uint32_t(p.n_kv_heads)));
  kv.emplace_back(a + "rope.freq_base", gguf_f32(float(p.rope_theta)));
  kv.emplace_back(a + "attention.layer_norm_rms_epsilon", gguf_f32(float(p.norm_eps)));
  kv.emplace_back(a + "rope.dimension_count", gguf_u32(uint32_t(p.dim / p.n_heads)));
  kv.emplace_back(a + "vocab_size", gguf_u32(uint32_t(p.vocab_size)));
  add_synth_gguf_tokenizer(v, &kv);
  return kv;
}

std::string synth_hf_config_json(const SynthPlan& plan, const SynthOptions& o, const SynthVocab& v) {
  const SynthPreset& p = plan.preset;
  const char* arch = p.arch == Arch::kQwen2 ? "Qwen2ForCausalLM" : p.arch == Arch::kMistral ? "MistralForCausalLM"
                                                                                             : "LlamaForCausalLM";
  ordered_json j;
  j["architectures"] = {arch};
  j["model_type"] = arch_name(p.arch);
  j["hidden_size"] = p.dim;
  j["intermediate_size"] = p.hidden_dim;
  j["num_hidden_layers"] = p.n_layers;
  j["num_attention_heads"] = p.n_heads;
  j["num_key_value_heads"] = p.n_kv_heads;
  j["head_dim"] = p.dim / p.n_heads;
  j["hidden_act"] = "silu";
  j["max_position_embeddings"] = p.max_seq_len;
  j["rms_norm_eps"] = p.norm_eps;
  j["rope_theta"] = p.rope_theta;
  if (p.rope_scaling.type == RopeScaling::Type::kLlama3) {
    j["rope_scaling"] = {{"rope_type", "llama3"},
                         {"factor", p.rope_scaling.factor},
                         {"low_freq_factor", p.rope_scaling.low_freq_factor},
                         {"high_freq_factor", p.rope_scaling.high_freq_factor},
                         {"original_max_position_embeddings", p.rope_scaling.original_max_positions}};
  } else {
    j["rope_scaling"] = nullptr;
  }
  j["tie_word_embeddings"] = p.tied_embeddings;
  j["vocab_size"] = p.vocab_size;
  j["bos_token_id"] = v.bos_id;
  j["eos_token_id"] = v.eos_id;
  j["initializer_range"] = 0.02;
  j["attention_dropout"] = 0.0;
  if (p.arch == Arch::kQwen2) {
    j["use_sliding_window"] = false;
    j["sliding_window"] = nullptr;
    j["max_window_layers"] = p.n_layers;
  } else {
    j["attention_bias"] = p.qkv_bias;
    j["mlp_bias"] = false;
    if (p.arch == Arch::kMistral) j["sliding_window"] = nullptr;
  }
  j["use_cache"] = true;
  j["torch_dtype"] = torch_dtype(o.dtype);
  j["trapetum_synth"] = {{"preset", p.name}, {"seed", o.seed}, {"outlier_cols", o.outlier_cols}};
  return j.dump(2) + "\n";
}

std::string synth_hf_generation_config_json(const SynthVocab& v) {
  ordered_json j;
  j["bos_token_id"] = v.bos_id;
  j["eos_token_id"] = {v.eos_id, v.im_end_id};
  j["pad_token_id"] = v.eos_id;
  return j.dump(2) + "\n";
}

}  // namespace trapetum
