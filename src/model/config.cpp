// ModelConfig from GGUF metadata or HF config.json, and validation.
#include "model/config.h"

#include <cmath>
#include <nlohmann/json.hpp>
#include <vector>

#include "io/gguf.h"

namespace trapetum {

const char* arch_name(Arch a) {
  switch (a) {
    case Arch::kLlama: return "llama";
    case Arch::kMistral: return "mistral";
    case Arch::kQwen2: return "qwen2";
  }
  return "?";
}

Status ModelConfig::validate(const std::string& src) const {
  auto positive = [&](const char* field, int v) -> Status {
    if (v <= 0 || v > (1 << 24)) return make_error(src, ": field '", field, "' = ", v, " is out of range");
    return Ok{};
  };
  TRY_STATUS(positive("hidden size", dim));
  TRY_STATUS(positive("layer count", n_layers));
  TRY_STATUS(positive("head count", n_heads));
  TRY_STATUS(positive("kv head count", n_kv_heads));
  TRY_STATUS(positive("head dim", head_dim));
  TRY_STATUS(positive("feed-forward size", hidden_dim));
  TRY_STATUS(positive("vocab size", vocab_size));
  TRY_STATUS(positive("context length", max_seq_len));
  if (n_heads % n_kv_heads != 0)
    return make_error(src, ": head count ", n_heads, " is not a multiple of kv head count ", n_kv_heads);
  if (head_dim % 2 != 0) return make_error(src, ": head dim ", head_dim, " is odd");
  if (rope_dim != head_dim)
    return make_error(src, ": rope dimension ", rope_dim, " differs from head dim ", head_dim, " (partial RoPE is not supported)");
  if (!(norm_eps > 0) || !(rope_theta > 0)) return make_error(src, ": rms eps and rope theta must be positive");
  if (n_layers > 4096 || dim > 65536 || n_heads > 1024) return make_error(src, ": model dimensions are implausibly large");
  if (rope_scaling.type != RopeScaling::Type::kNone && !(rope_scaling.factor > 0))
    return make_error(src, ": rope scaling factor must be positive");
  return Ok{};
}

Result<ModelConfig> config_from_gguf(const GgufFile& g) {
  ModelConfig c;
  TRY(auto arch, g.get_string("general.architecture"));
  if (!arch) return make_error(g.path(), ": metadata 'general.architecture' is missing");
  c.arch_name = *arch;
  if (*arch == "llama") {
    c.arch = Arch::kLlama;
    c.rope_layout = RopeLayout::kInterleaved;
  } else if (*arch == "mistral") {
    c.arch = Arch::kMistral;
    c.rope_layout = RopeLayout::kInterleaved;
  } else if (*arch == "qwen2") {
    c.arch = Arch::kQwen2;
    c.rope_layout = RopeLayout::kHalf;
    c.qkv_bias = true;
  } else {
    return make_error(g.path(), ": unsupported architecture '", *arch, "' in 'general.architecture' (supported: llama, mistral, qwen2)");
  }
  const std::string a = *arch + ".";
  auto req_int = [&](const std::string& key, int* out) -> Status {
    TRY(auto v, g.get_int(a + key));
    if (!v) return make_error(g.path(), ": metadata '", a + key, "' is missing");
    if (*v <= 0 || *v > (int64_t(1) << 30)) return make_error(g.path(), ": metadata '", a + key, "' = ", *v, " is out of range");
    *out = int(*v);
    return Ok{};
  };
  TRY_STATUS(req_int("embedding_length", &c.dim));
  TRY_STATUS(req_int("block_count", &c.n_layers));
  TRY_STATUS(req_int("feed_forward_length", &c.hidden_dim));
  TRY_STATUS(req_int("attention.head_count", &c.n_heads));
  TRY_STATUS(req_int("context_length", &c.max_seq_len));
  TRY(auto kv, g.get_int(a + "attention.head_count_kv"));
  c.n_kv_heads = kv ? int(*kv) : c.n_heads;
  TRY(auto key_len, g.get_int(a + "attention.key_length"));
  c.head_dim = key_len ? int(*key_len) : (c.n_heads > 0 ? c.dim / c.n_heads : 0);
  TRY(auto rope_dim, g.get_int(a + "rope.dimension_count"));
  c.rope_dim = rope_dim ? int(*rope_dim) : c.head_dim;
  TRY(auto eps, g.get_float(a + "attention.layer_norm_rms_epsilon"));
  if (eps) c.norm_eps = *eps;
  TRY(auto theta, g.get_float(a + "rope.freq_base"));
  if (theta) c.rope_theta = *theta;
  TRY(auto swa, g.get_int(a + "attention.sliding_window"));
  if (swa && *swa > 0) c.sliding_window = int(*swa);
  TRY(auto scaling, g.get_string(a + "rope.scaling.type"));
  if (scaling && *scaling == "linear") {
    TRY(auto factor, g.get_float(a + "rope.scaling.factor"));
    c.rope_scaling.type = RopeScaling::Type::kLinear;
    c.rope_scaling.factor = factor ? *factor : 1.0;
  } else if (scaling && *scaling != "none") {
    return make_error(g.path(), ": metadata '", a, "rope.scaling.type' = '", *scaling, "' is not supported (none, linear)");
  }
  // Llama-3 scaling travels in GGUF as the rope_freqs.weight tensor; the model loader applies it.
  TRY(auto vocab, g.get_int(a + "vocab_size"));
  if (vocab) {
    c.vocab_size = int(*vocab);
  } else {
    TRY(auto toks, g.get_string_array("tokenizer.ggml.tokens"));
    c.vocab_size = toks ? int(toks->size()) : 0;
  }
  TRY(auto name, g.get_string("general.name"));
  if (name) c.name = *name;
  TRY_STATUS(c.validate(g.path()));
  return c;
}

namespace {

using nlohmann::json;

template <class T>
Result<T> json_get(const json& j, const char* key, const std::string& path, T fallback, bool required) {
  if (!j.contains(key) || j[key].is_null()) {
    if (required) return make_error(path, ": field '", key, "' is missing");
    return fallback;
  }
  const json& v = j[key];
  if constexpr (std::is_same_v<T, bool>) {
    if (!v.is_boolean()) return make_error(path, ": field '", key, "' must be a boolean, found ", v.type_name());
  } else if constexpr (std::is_integral_v<T>) {
    if (!v.is_number_integer()) return make_error(path, ": field '", key, "' must be an integer, found ", v.type_name());
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!v.is_number()) return make_error(path, ": field '", key, "' must be a number, found ", v.type_name());
  } else {
    if (!v.is_string()) return make_error(path, ": field '", key, "' must be a string, found ", v.type_name());
  }
  return v.get<T>();
}

Status parse_rope_scaling(const json& rs, const std::string& path, ModelConfig* c) {
  if (!rs.is_object()) return make_error(path, ": field 'rope_scaling' must be an object");
  std::string type;
  if (rs.contains("rope_type") && rs["rope_type"].is_string()) type = rs["rope_type"];
  else if (rs.contains("type") && rs["type"].is_string()) type = rs["type"];
  if (type.empty() || type == "default") return Ok{};
  TRY(c->rope_scaling.factor, json_get<double>(rs, "factor", path, 1.0, true));
  if (type == "linear") {
    c->rope_scaling.type = RopeScaling::Type::kLinear;
  } else if (type == "llama3") {
    c->rope_scaling.type = RopeScaling::Type::kLlama3;
    TRY(c->rope_scaling.low_freq_factor, json_get<double>(rs, "low_freq_factor", path, 1.0, true));
    TRY(c->rope_scaling.high_freq_factor, json_get<double>(rs, "high_freq_factor", path, 4.0, true));
    TRY(c->rope_scaling.original_max_positions,
        json_get<double>(rs, "original_max_position_embeddings", path, 8192.0, true));
    if (!(c->rope_scaling.high_freq_factor > c->rope_scaling.low_freq_factor))
      return make_error(path, ": rope_scaling: high_freq_factor must exceed low_freq_factor");
  } else {
    return make_error(path, ": rope_scaling type '", type, "' is not supported (default, linear, llama3)");
  }
  return Ok{};
}

}  // namespace

Result<ModelConfig> config_from_hf_json(const std::string& path) {
  std::string text;
  if (!read_text_file(path, &text)) return make_error(path, ": cannot read");
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error(path, ": not valid JSON");
  ModelConfig c;
  TRY(std::string type, json_get<std::string>(j, "model_type", path, "", true));
  c.arch_name = type;
  if (type == "llama") c.arch = Arch::kLlama;
  else if (type == "mistral") c.arch = Arch::kMistral;
  else if (type == "qwen2") c.arch = Arch::kQwen2;
  else return make_error(path, ": unsupported model_type '", type, "' (supported: llama, mistral, qwen2)");
  c.rope_layout = RopeLayout::kHalf;
  TRY(c.dim, json_get<int>(j, "hidden_size", path, 0, true));
  TRY(c.n_layers, json_get<int>(j, "num_hidden_layers", path, 0, true));
  TRY(c.n_heads, json_get<int>(j, "num_attention_heads", path, 0, true));
  TRY(c.n_kv_heads, json_get<int>(j, "num_key_value_heads", path, c.n_heads, false));
  TRY(c.hidden_dim, json_get<int>(j, "intermediate_size", path, 0, true));
  TRY(c.vocab_size, json_get<int>(j, "vocab_size", path, 0, true));
  TRY(c.max_seq_len, json_get<int>(j, "max_position_embeddings", path, 2048, false));
  TRY(c.norm_eps, json_get<double>(j, "rms_norm_eps", path, 1e-6, false));
  TRY(c.head_dim, json_get<int>(j, "head_dim", path, c.n_heads > 0 ? c.dim / c.n_heads : 0, false));
  c.rope_dim = c.head_dim;
  TRY(c.tied_embeddings, json_get<bool>(j, "tie_word_embeddings", path, false, false));
  // transformers >= 5 keeps theta and scaling in rope_parameters; older files use
  // rope_theta and rope_scaling.
  TRY(c.rope_theta, json_get<double>(j, "rope_theta", path, 10000.0, false));
  if (j.contains("rope_parameters") && j["rope_parameters"].is_object()) {
    const json& rp = j["rope_parameters"];
    TRY(c.rope_theta, json_get<double>(rp, "rope_theta", path, c.rope_theta, false));
    TRY_STATUS(parse_rope_scaling(rp, path, &c));
  } else if (j.contains("rope_scaling") && !j["rope_scaling"].is_null()) {
    TRY_STATUS(parse_rope_scaling(j["rope_scaling"], path, &c));
  }
  if (c.arch == Arch::kQwen2) {
    c.qkv_bias = true;
    TRY(bool use_swa, json_get<bool>(j, "use_sliding_window", path, false, false));
    if (use_swa) return make_error(path, ": use_sliding_window=true is not supported for qwen2");
  } else {
    TRY(c.qkv_bias, json_get<bool>(j, "attention_bias", path, false, false));
  }
  if (c.arch == Arch::kMistral) {
    TRY(c.sliding_window, json_get<int>(j, "sliding_window", path, 0, false));
  }
  TRY(std::string act, json_get<std::string>(j, "hidden_act", path, "silu", false));
  if (act != "silu") return make_error(path, ": hidden_act '", act, "' is not supported (silu)");
  TRY(c.name, json_get<std::string>(j, "_name_or_path", path, "", false));
  TRY_STATUS(c.validate(path));
  return c;
}

std::vector<float> rope_inv_freq(const ModelConfig& c) {
  const int half = c.head_dim / 2;
  std::vector<float> inv(half);
  for (int i = 0; i < half; ++i)
    inv[i] = float(1.0 / std::pow(c.rope_theta, double(2 * i) / double(c.head_dim)));
  const RopeScaling& s = c.rope_scaling;
  if (s.type == RopeScaling::Type::kLinear) {
    for (auto& f : inv) f = float(f / s.factor);
  } else if (s.type == RopeScaling::Type::kLlama3) {
    const double low_wavelen = s.original_max_positions / s.low_freq_factor;
    const double high_wavelen = s.original_max_positions / s.high_freq_factor;
    for (auto& f : inv) {
      const double wavelen = 2.0 * M_PI / double(f);
      if (wavelen > low_wavelen) {
        f = float(f / s.factor);
      } else if (wavelen >= high_wavelen) {
        const double smooth = (s.original_max_positions / wavelen - s.low_freq_factor) /
                              (s.high_freq_factor - s.low_freq_factor);
        f = float((1.0 - smooth) * f / s.factor + smooth * f);
      }
    }
  }
  return inv;
}

}  // namespace trapetum
