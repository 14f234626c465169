// tokenizer.json and tokenizer_config.json rebuilt from a TokenizerSpec, in the shapes HF's own
// converters write (GPT-2/Qwen2-style byte-level BPE; Llama-style SentencePiece-BPE).
#include <algorithm>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "press/hf_export.h"
#include "tokenizer/pre_tokenizer.h"

namespace trapetum {
namespace {

using nlohmann::ordered_json;

constexpr const char* kSpmSpace = "\xE2\x96\x81";  // U+2581

const char* behavior_name(SplitBehavior b) {
  switch (b) {
    case SplitBehavior::kRemoved: return "Removed";
    case SplitBehavior::kMergedWithPrevious: return "MergedWithPrevious";
    case SplitBehavior::kMergedWithNext: return "MergedWithNext";
    case SplitBehavior::kContiguous: return "Contiguous";
    default: return "Isolated";
  }
}

// The added tokens as the spec defines them: explicit list, or every control/user/unknown token.
std::vector<AddedToken> added_tokens(const TokenizerSpec& s) {
  if (!s.added_tokens.empty()) return s.added_tokens;
  std::vector<AddedToken> out;
  for (size_t i = 0; i < s.token_types.size(); ++i) {
    const TokenType t = s.token_types[i];
    if (t == TokenType::kControl || t == TokenType::kUserDefined || t == TokenType::kUnknown)
      out.push_back(AddedToken{int32_t(i)});
  }
  return out;
}

TokenType type_of(const TokenizerSpec& s, int32_t id) {
  return size_t(id) < s.token_types.size() ? s.token_types[size_t(id)] : TokenType::kNormal;
}

size_t utf8_len(unsigned char c) { return c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1; }

// SentencePiece-BPE merges from scores (transformers' generate_merges): every split of a
// normal piece into two vocabulary pieces, ranked by the piece's score, best first.
std::vector<std::string> spm_merges(const TokenizerSpec& s) {
  std::unordered_map<std::string, int32_t> id;
  for (size_t i = 0; i < s.tokens.size(); ++i)
    if (type_of(s, int32_t(i)) == TokenType::kNormal) id.emplace(s.tokens[i], int32_t(i));
  struct M { float score; int32_t piece, l, r; };
  std::vector<M> ms;
  for (const auto& [piece, pid] : id) {
    for (size_t cut = utf8_len(uint8_t(piece[0])); cut < piece.size(); cut += utf8_len(uint8_t(piece[cut]))) {
      auto l = id.find(piece.substr(0, cut)), r = id.find(piece.substr(cut));
      if (l == id.end() || r == id.end()) continue;
      const float score = size_t(pid) < s.scores.size() ? s.scores[size_t(pid)] : -float(pid);
      ms.push_back({score, pid, l->second, r->second});
    }
  }
  std::sort(ms.begin(), ms.end(), [](const M& a, const M& b) {
    if (a.score != b.score) return a.score > b.score;
    if (a.piece != b.piece) return a.piece < b.piece;
    return a.l < b.l;
  });
  std::vector<std::string> out;
  out.reserve(ms.size());
  for (const M& m : ms) out.push_back(s.tokens[size_t(m.l)] + " " + s.tokens[size_t(m.r)]);
  return out;
}

ordered_json post_processor(const TokenizerSpec& s) {
  if (!s.add_bos && !s.add_eos) return nullptr;
  ordered_json single = ordered_json::array(), pair = ordered_json::array(), specials = ordered_json::object();
  auto special = [&](int32_t id, int type_id) {
    const std::string& t = s.tokens[size_t(id)];
    specials[t] = {{"id", t}, {"ids", {id}}, {"tokens", {t}}};
    return ordered_json{{"SpecialToken", {{"id", t}, {"type_id", type_id}}}};
  };
  if (s.add_bos && s.bos_id >= 0) single.push_back(special(s.bos_id, 0));
  single.push_back({{"Sequence", {{"id", "A"}, {"type_id", 0}}}});
  if (s.add_eos && s.eos_id >= 0) single.push_back(special(s.eos_id, 0));
  for (const auto& e : single) pair.push_back(e);
  if (s.add_bos && s.bos_id >= 0) pair.push_back(special(s.bos_id, 1));
  pair.push_back({{"Sequence", {{"id", "B"}, {"type_id", 1}}}});
  if (s.add_eos && s.eos_id >= 0) pair.push_back(special(s.eos_id, 1));
  return {{"type", "TemplateProcessing"}, {"single", single}, {"pair", pair}, {"special_tokens", specials}};
}

Status byte_level_parts(const TokenizerSpec& s, ordered_json* root) {
  ordered_json& r = *root;
  r["normalizer"] = s.normalize_nfc ? ordered_json{{"type", "NFC"}} : ordered_json(nullptr);
  ordered_json pres = ordered_json::array();
  const bool gpt2_only = s.pre_regexes.size() == 1 && s.pre_regexes[0] == kGpt2Pattern &&
                         (s.pre_behaviors.empty() || s.pre_behaviors[0] == SplitBehavior::kIsolated);
  if (s.byte_level_prefix_space && !gpt2_only && !s.pre_regexes.empty())
    return make_error("tokenizer: a byte-level prefix space with custom split patterns has no tokenizer.json form");
  if (!gpt2_only) {
    for (size_t i = 0; i < s.pre_regexes.size(); ++i) {
      const SplitBehavior b = i < s.pre_behaviors.size() ? s.pre_behaviors[i] : SplitBehavior::kIsolated;
      pres.push_back({{"type", "Split"}, {"pattern", {{"Regex", s.pre_regexes[i]}}}, {"behavior", behavior_name(b)},
                      {"invert", false}});
    }
  }
  pres.push_back({{"type", "ByteLevel"}, {"add_prefix_space", s.byte_level_prefix_space}, {"trim_offsets", false},
                  {"use_regex", gpt2_only}});
  r["pre_tokenizer"] = pres.size() == 1 ? pres[0] : ordered_json{{"type", "Sequence"}, {"pretokenizers", pres}};
  const ordered_json pp = post_processor(s);
  r["post_processor"] = pp.is_null() ? ordered_json{{"type", "ByteLevel"}, {"add_prefix_space", true},
                                                    {"trim_offsets", false}, {"use_regex", true}}
                                     : pp;
  r["decoder"] = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", true}, {"use_regex", true}};
  return Ok{};
}

void spm_parts(const TokenizerSpec& s, ordered_json* root) {
  ordered_json& r = *root;
  ordered_json norms = ordered_json::array();
  if (s.normalize_nfc) norms.push_back({{"type", "NFC"}});
  if (s.space_prefix == SpacePrefix::kEvery) {
    // Llama's legacy form: the prefix and the space replacement are normalizers.
    if (s.add_space_prefix) norms.push_back({{"type", "Prepend"}, {"prepend", kSpmSpace}});
    norms.push_back({{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", kSpmSpace}});
    r["pre_tokenizer"] = nullptr;
  } else {
    const char* scheme = !s.add_space_prefix ? "never" : s.space_prefix == SpacePrefix::kMetaspaceFirst ? "first" : "always";
    r["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", kSpmSpace}, {"prepend_scheme", scheme},
                          {"split", s.split_on_space}};
  }
  r["normalizer"] = norms.empty()     ? ordered_json(nullptr)
                    : norms.size() == 1 ? norms[0]
                                        : ordered_json{{"type", "Sequence"}, {"normalizers", norms}};
  r["post_processor"] = post_processor(s);
  ordered_json decs = ordered_json::array();
  decs.push_back({{"type", "Replace"}, {"pattern", {{"String", kSpmSpace}}}, {"content", " "}});
  decs.push_back({{"type", "ByteFallback"}});
  decs.push_back({{"type", "Fuse"}});
  if (s.add_space_prefix) decs.push_back({{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}});
  r["decoder"] = {{"type", "Sequence"}, {"decoders", decs}};
}

}  // namespace

Result<std::string> hf_tokenizer_json(const TokenizerSpec& s) {
  const bool byte_level = s.kind == TokenizerSpec::Kind::kByteLevelBpe;
  ordered_json r;
  r["version"] = "1.0";
  r["truncation"] = nullptr;
  r["padding"] = nullptr;
  ordered_json added = ordered_json::array();
  for (const AddedToken& a : added_tokens(s)) {
    if (a.id < 0 || size_t(a.id) >= s.tokens.size()) return make_error("tokenizer: added token id ", a.id, " out of range");
    const TokenType t = type_of(s, a.id);
    added.push_back({{"id", a.id}, {"content", s.tokens[size_t(a.id)]}, {"single_word", a.single_word},
                     {"lstrip", a.lstrip}, {"rstrip", a.rstrip}, {"normalized", t == TokenType::kUserDefined},
                     {"special", t != TokenType::kUserDefined}});
  }
  r["added_tokens"] = added;
  if (byte_level) {
    TRY_STATUS(byte_level_parts(s, &r));
  } else {
    spm_parts(s, &r);
  }
  // Every piece once, first id wins (HF's vocab is a map); added tokens keep their own entries.
  ordered_json vocab = ordered_json::object();
  for (size_t i = 0; i < s.tokens.size(); ++i)
    if (!vocab.contains(s.tokens[i]) && !(s.tokens[i].empty() && type_of(s, int32_t(i)) == TokenType::kUnused))
      vocab[s.tokens[i]] = int32_t(i);
  const std::vector<std::string> merges = byte_level || !s.merges.empty() ? s.merges : spm_merges(s);
  ordered_json model;
  model["type"] = "BPE";
  model["dropout"] = nullptr;
  model["unk_token"] = s.unk_id >= 0 ? ordered_json(s.tokens[size_t(s.unk_id)]) : ordered_json(nullptr);
  model["continuing_subword_prefix"] = nullptr;
  model["end_of_word_suffix"] = nullptr;
  model["fuse_unk"] = !byte_level;
  model["byte_fallback"] = !byte_level && s.byte_fallback;
  model["ignore_merges"] = s.ignore_merges;
  model["vocab"] = std::move(vocab);
  model["merges"] = merges;
  r["model"] = std::move(model);
  return r.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string hf_tokenizer_config_json(const TokenizerSpec& s) {
  ordered_json j;
  auto tok = [&](int32_t id) { return id >= 0 && size_t(id) < s.tokens.size() ? ordered_json(s.tokens[size_t(id)]) : ordered_json(nullptr); };
  j["add_bos_token"] = s.add_bos;
  j["add_eos_token"] = s.add_eos;
  ordered_json decoder = ordered_json::object();
  for (const AddedToken& a : added_tokens(s)) {
    if (a.id < 0 || size_t(a.id) >= s.tokens.size()) continue;
    const TokenType t = type_of(s, a.id);
    decoder[std::to_string(a.id)] = {{"content", s.tokens[size_t(a.id)]}, {"lstrip", a.lstrip},
                                     {"normalized", t == TokenType::kUserDefined}, {"rstrip", a.rstrip},
                                     {"single_word", a.single_word}, {"special", t != TokenType::kUserDefined}};
  }
  j["added_tokens_decoder"] = decoder;
  j["bos_token"] = tok(s.bos_id);
  j["eos_token"] = tok(s.eos_id);
  j["unk_token"] = tok(s.unk_id);
  j["pad_token"] = tok(s.pad_id);
  j["clean_up_tokenization_spaces"] = false;
  // PreTrainedTokenizerFast runs tokenizer.json as written (LlamaTokenizerFast rebuilds its pipeline).
  j["tokenizer_class"] = "PreTrainedTokenizerFast";
  if (s.kind != TokenizerSpec::Kind::kByteLevelBpe) j["legacy"] = s.space_prefix == SpacePrefix::kEvery;
  if (!s.chat_template.empty()) j["chat_template"] = s.chat_template;
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace trapetum
