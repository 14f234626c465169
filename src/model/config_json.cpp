// ModelConfig <-> JSON with readable enum names; checked field by field on the way back.
#include "model/config_json.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>

namespace trapetum {
namespace {

const char* rope_type_name(RopeScaling::Type t) {
  switch (t) {
    case RopeScaling::Type::kLinear: return "linear";
    case RopeScaling::Type::kLlama3: return "llama3";
    default: return "none";
  }
}

// A number that does not fit T: nlohmann converts those unchecked (1e300 to int is undefined).
template <class T>
bool out_of_range(const nlohmann::json& v) {
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    if (!v.is_number()) return false;  // the wrong type, reported as such below
    if (!v.is_number_integer()) return true;
    if (v.is_number_unsigned()) return v.get<uint64_t>() > uint64_t(std::numeric_limits<T>::max());
    const int64_t x = v.get<int64_t>();
    return x < int64_t(std::numeric_limits<T>::min()) || (x > 0 && uint64_t(x) > uint64_t(std::numeric_limits<T>::max()));
  } else if constexpr (std::is_floating_point_v<T>) {
    return v.is_number() && !(std::fabs(v.get<double>()) <= double(std::numeric_limits<T>::max()));
  }
  return false;
}

template <class T>
Status get(const nlohmann::json& j, const char* key, T* out, const std::string& where) {
  if (!j.is_object() || !j.contains(key)) return make_error(where, ": field '", key, "' is missing");
  if (out_of_range<T>(j.at(key))) return make_error(where, ": field '", key, "' is out of range for its type");
  try {
    *out = j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    return make_error(where, ": field '", key, "' has the wrong type");
  }
  return Ok{};
}

}  // namespace

nlohmann::json config_to_json(const ModelConfig& c) {
  return {{"arch", c.arch_name},
          {"name", c.name},
          {"dim", c.dim},
          {"n_layers", c.n_layers},
          {"n_heads", c.n_heads},
          {"n_kv_heads", c.n_kv_heads},
          {"head_dim", c.head_dim},
          {"hidden_dim", c.hidden_dim},
          {"vocab_size", c.vocab_size},
          {"max_seq_len", c.max_seq_len},
          {"norm_eps", c.norm_eps},
          {"rope_theta", c.rope_theta},
          {"rope_dim", c.rope_dim},
          {"rope_layout", c.rope_layout == RopeLayout::kInterleaved ? "interleaved" : "half"},
          {"rope_scaling",
           {{"type", rope_type_name(c.rope_scaling.type)},
            {"factor", c.rope_scaling.factor},
            {"low_freq_factor", c.rope_scaling.low_freq_factor},
            {"high_freq_factor", c.rope_scaling.high_freq_factor},
            {"original_max_positions", c.rope_scaling.original_max_positions}}},
          {"sliding_window", c.sliding_window},
          {"qkv_bias", c.qkv_bias},
          {"tied_embeddings", c.tied_embeddings}};
}

Result<ModelConfig> config_from_json(const nlohmann::json& j, const std::string& where) {
  ModelConfig c;
  TRY_STATUS(get(j, "arch", &c.arch_name, where));
  if (c.arch_name == "llama") c.arch = Arch::kLlama;
  else if (c.arch_name == "mistral") c.arch = Arch::kMistral;
  else if (c.arch_name == "qwen2") c.arch = Arch::kQwen2;
  else return make_error(where, ": field 'arch': unsupported architecture '", c.arch_name, "'");
  TRY_STATUS(get(j, "name", &c.name, where));
  TRY_STATUS(get(j, "dim", &c.dim, where));
  TRY_STATUS(get(j, "n_layers", &c.n_layers, where));
  TRY_STATUS(get(j, "n_heads", &c.n_heads, where));
  TRY_STATUS(get(j, "n_kv_heads", &c.n_kv_heads, where));
  TRY_STATUS(get(j, "head_dim", &c.head_dim, where));
  TRY_STATUS(get(j, "hidden_dim", &c.hidden_dim, where));
  TRY_STATUS(get(j, "vocab_size", &c.vocab_size, where));
  TRY_STATUS(get(j, "max_seq_len", &c.max_seq_len, where));
  TRY_STATUS(get(j, "norm_eps", &c.norm_eps, where));
  TRY_STATUS(get(j, "rope_theta", &c.rope_theta, where));
  TRY_STATUS(get(j, "rope_dim", &c.rope_dim, where));
  std::string layout, type;
  TRY_STATUS(get(j, "rope_layout", &layout, where));
  if (layout != "interleaved" && layout != "half")
    return make_error(where, ": field 'rope_layout' must be 'interleaved' or 'half', not '", layout, "'");
  c.rope_layout = layout == "interleaved" ? RopeLayout::kInterleaved : RopeLayout::kHalf;
  if (!j.contains("rope_scaling")) return make_error(where, ": field 'rope_scaling' is missing");
  const nlohmann::json& rs = j["rope_scaling"];
  const std::string rw = where + ".rope_scaling";
  TRY_STATUS(get(rs, "type", &type, rw));
  if (type == "none") c.rope_scaling.type = RopeScaling::Type::kNone;
  else if (type == "linear") c.rope_scaling.type = RopeScaling::Type::kLinear;
  else if (type == "llama3") c.rope_scaling.type = RopeScaling::Type::kLlama3;
  else return make_error(rw, ": field 'type': unknown rope scaling '", type, "'");
  TRY_STATUS(get(rs, "factor", &c.rope_scaling.factor, rw));
  TRY_STATUS(get(rs, "low_freq_factor", &c.rope_scaling.low_freq_factor, rw));
  TRY_STATUS(get(rs, "high_freq_factor", &c.rope_scaling.high_freq_factor, rw));
  TRY_STATUS(get(rs, "original_max_positions", &c.rope_scaling.original_max_positions, rw));
  TRY_STATUS(get(j, "sliding_window", &c.sliding_window, where));
  TRY_STATUS(get(j, "qkv_bias", &c.qkv_bias, where));
  TRY_STATUS(get(j, "tied_embeddings", &c.tied_embeddings, where));
  TRY_STATUS(c.validate(where));
  return c;
}

}  // namespace trapetum
