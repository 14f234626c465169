// TokenizerSpec <-> JSON. Enums are stored as their integer values; every field is checked
// for presence and type on the way back, and the spec is validated by Tokenizer::create.
#include "tokenizer/spec_json.h"

#include <cstdint>
#include <type_traits>

namespace trapetum {

nlohmann::json tokenizer_spec_to_json(const TokenizerSpec& s) {
  nlohmann::json types = nlohmann::json::array(), added = nlohmann::json::array(), behaviors = nlohmann::json::array();
  for (TokenType t : s.token_types) types.push_back(int(t));
  for (const AddedToken& a : s.added_tokens) added.push_back({a.id, a.lstrip, a.rstrip, a.single_word});
  for (SplitBehavior b : s.pre_behaviors) behaviors.push_back(int(b));
  return {{"kind", int(s.kind)},
          {"tokens", s.tokens},
          {"scores", s.scores},
          {"token_types", std::move(types)},
          {"merges", s.merges},
          {"pre", s.pre},
          {"pre_regexes", s.pre_regexes},
          {"pre_behaviors", std::move(behaviors)},
          {"bos_id", s.bos_id},
          {"eos_id", s.eos_id},
          {"unk_id", s.unk_id},
          {"pad_id", s.pad_id},
          {"eog_ids", s.eog_ids},
          {"add_bos", s.add_bos},
          {"add_eos", s.add_eos},
          {"add_space_prefix", s.add_space_prefix},
          {"chat_template", s.chat_template},
          {"added_tokens", std::move(added)},
          {"byte_level_prefix_space", s.byte_level_prefix_space},
          {"ignore_merges", s.ignore_merges},
          {"normalize_nfc", s.normalize_nfc},
          {"space_prefix", int(s.space_prefix)},
          {"split_on_space", s.split_on_space},
          {"byte_fallback", s.byte_fallback}};
}

namespace {

// True when v, or an element of v nested at most two arrays deep (every field's type nests no
// deeper), is a number other than an int32: nlohmann converts those to int unchecked (1e300 is
// undefined behaviour, 2^32 + 1 silently becomes 1).
bool has_non_int32(const nlohmann::json& v, int depth = 0) {
  if (v.is_number_float()) return true;
  if (v.is_number_unsigned()) return v.get<uint64_t>() > uint64_t(INT32_MAX);
  if (v.is_number_integer()) return v.get<int64_t>() < INT32_MIN || v.get<int64_t>() > INT32_MAX;
  if (v.is_array() && depth < 2)
    for (const auto& e : v)
      if (has_non_int32(e, depth + 1)) return true;
  return false;
}

// Reads j[key] into *out, with a message naming the field when it is missing or mistyped.
template <class T>
Status field(const nlohmann::json& j, const char* key, T* out, const std::string& where) {
  if (!j.contains(key)) return make_error(where, ": field '", key, "' is missing");
  if constexpr (!std::is_same_v<T, std::vector<float>>) {
    if (has_non_int32(j.at(key))) return make_error(where, ": field '", key, "' holds a number that is not a 32-bit integer");
  }
  try {
    *out = j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    return make_error(where, ": field '", key, "' has the wrong type");
  }
  return Ok{};
}

template <class E>
Status enum_field(const nlohmann::json& j, const char* key, E* out, int max, const std::string& where) {
  int v = 0;
  TRY_STATUS(field(j, key, &v, where));
  if (v < 0 || v > max) return make_error(where, ": field '", key, "' value ", v, " is out of range");
  *out = E(v);
  return Ok{};
}

}  // namespace

Result<TokenizerSpec> tokenizer_spec_from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) return make_error(where, ": not an object");
  TokenizerSpec s;
  TRY_STATUS(enum_field(j, "kind", &s.kind, int(TokenizerSpec::Kind::kByteLevelBpe), where));
  TRY_STATUS(field(j, "tokens", &s.tokens, where));
  TRY_STATUS(field(j, "scores", &s.scores, where));
  std::vector<int> types, behaviors;
  TRY_STATUS(field(j, "token_types", &types, where));
  for (int t : types) {
    if (t < int(TokenType::kNormal) || t > int(TokenType::kByte))
      return make_error(where, ": token type ", t, " is out of range");
    s.token_types.push_back(TokenType(t));
  }
  TRY_STATUS(field(j, "merges", &s.merges, where));
  TRY_STATUS(field(j, "pre", &s.pre, where));
  TRY_STATUS(field(j, "pre_regexes", &s.pre_regexes, where));
  TRY_STATUS(field(j, "pre_behaviors", &behaviors, where));
  for (int b : behaviors) {
    if (b < 0 || b > int(SplitBehavior::kContiguous)) return make_error(where, ": split behavior ", b, " is out of range");
    s.pre_behaviors.push_back(SplitBehavior(b));
  }
  TRY_STATUS(field(j, "bos_id", &s.bos_id, where));
  TRY_STATUS(field(j, "eos_id", &s.eos_id, where));
  TRY_STATUS(field(j, "unk_id", &s.unk_id, where));
  TRY_STATUS(field(j, "pad_id", &s.pad_id, where));
  TRY_STATUS(field(j, "eog_ids", &s.eog_ids, where));
  TRY_STATUS(field(j, "add_bos", &s.add_bos, where));
  TRY_STATUS(field(j, "add_eos", &s.add_eos, where));
  TRY_STATUS(field(j, "add_space_prefix", &s.add_space_prefix, where));
  TRY_STATUS(field(j, "chat_template", &s.chat_template, where));
  std::vector<std::tuple<int32_t, bool, bool, bool>> added;
  TRY_STATUS(field(j, "added_tokens", &added, where));
  for (const auto& [id, l, r, w] : added) s.added_tokens.push_back({id, l, r, w});
  TRY_STATUS(field(j, "byte_level_prefix_space", &s.byte_level_prefix_space, where));
  TRY_STATUS(field(j, "ignore_merges", &s.ignore_merges, where));
  TRY_STATUS(field(j, "normalize_nfc", &s.normalize_nfc, where));
  TRY_STATUS(enum_field(j, "space_prefix", &s.space_prefix, int(SpacePrefix::kMetaspaceFirst), where));
  TRY_STATUS(field(j, "split_on_space", &s.split_on_space, where));
  TRY_STATUS(field(j, "byte_fallback", &s.byte_fallback, where));
  return s;
}

}  // namespace trapetum
