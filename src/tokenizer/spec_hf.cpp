// tokenizer_spec_from_hf: the BPE model, added tokens and pipeline of tokenizer.json, plus the
// special tokens, add_bos/add_eos and chat template of tokenizer_config.json.
#include <algorithm>
#include <cstdint>

#include "tokenizer/hf_json.h"

namespace trapetum {
namespace {

bool is_byte_piece(const std::string& p) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); };
  return p.size() == 6 && p.compare(0, 3, "<0x") == 0 && p[5] == '>' && hex(p[3]) && hex(p[4]);
}

struct HfAdded {
  AddedToken token;
  std::string content;
  bool special = false;
};

Status read_model(const HfJson& hf, const json& root, std::vector<std::string>* merges,
                  std::vector<std::pair<std::string, int64_t>>* vocab, bool* byte_fallback,
                  std::string* unk, TokenizerSpec* spec) {
  const json* model = hf.find(root, "model");
  if (!model) return hf.error("model", "missing");
  if (!model->is_object()) return hf.wrong_type("model", "an object", *model);
  TRY(std::string type, hf.string_or(*model, "type", "model.type", "BPE"));
  if (type != "BPE") return hf.error("model.type", "unsupported model type '" + type + "' (only BPE)");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    TRY(std::string affix, hf.string_or(*model, key, std::string("model.") + key, ""));
    if (!affix.empty()) return hf.error(std::string("model.") + key, "'" + affix + "' is not supported");
  }
  TRY(*byte_fallback, hf.bool_or(*model, "byte_fallback", "model.byte_fallback", false));
  TRY(spec->ignore_merges, hf.bool_or(*model, "ignore_merges", "model.ignore_merges", false));
  TRY(*unk, hf.string_or(*model, "unk_token", "model.unk_token", ""));

  const json* v = hf.find(*model, "vocab");
  if (!v || !v->is_object()) return hf.wrong_type("model.vocab", "an object", v ? *v : json());
  vocab->reserve(v->size());
  for (auto it = v->begin(); it != v->end(); ++it) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > INT32_MAX) {
      return hf.wrong_type("model.vocab[\"" + it.key() + "\"]", "an integer in [0, 2^31)", *it);
    }
    vocab->emplace_back(it.key(), it->get<int64_t>());
  }
  const json* m = hf.find(*model, "merges");
  if (!m) return Ok{};
  if (!m->is_array()) return hf.wrong_type("model.merges", "an array", *m);
  merges->reserve(m->size());
  for (size_t i = 0; i < m->size(); ++i) {
    const json& e = (*m)[i];
    if (e.is_string()) {
      merges->push_back(e.get<std::string>());
    } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
      merges->push_back(e[0].get<std::string>() + " " + e[1].get<std::string>());
    } else {
      return hf.wrong_type(str_cat("model.merges[", i, "]"), "a \"left right\" string or a [left, right] pair", e);
    }
  }
  return Ok{};
}

Status read_added(const HfJson& hf, const json& root, std::vector<HfAdded>* out) {
  const json* list = hf.find(root, "added_tokens");
  if (!list) return Ok{};
  if (!list->is_array()) return hf.wrong_type("added_tokens", "an array", *list);
  for (size_t i = 0; i < list->size(); ++i) {
    const json& t = (*list)[i];
    std::string f = str_cat("added_tokens[", i, "]");
    if (!t.is_object()) return hf.wrong_type(f, "an object", t);
    HfAdded a;
    const json* id = hf.find(t, "id");
    const json* content = hf.find(t, "content");
    if (!id) return hf.error(f + ".id", "missing");
    if (!content) return hf.error(f + ".content", "missing");
    TRY(int64_t id_value, hf.integer(*id, f + ".id"));
    if (id_value < 0 || id_value > INT32_MAX) return hf.error(f + ".id", str_cat("out of range: ", id_value));
    a.token.id = int32_t(id_value);
    TRY(a.content, hf.string(*content, f + ".content"));
    TRY(a.special, hf.bool_or(t, "special", f + ".special", false));
    TRY(a.token.lstrip, hf.bool_or(t, "lstrip", f + ".lstrip", false));
    TRY(a.token.rstrip, hf.bool_or(t, "rstrip", f + ".rstrip", false));
    TRY(a.token.single_word, hf.bool_or(t, "single_word", f + ".single_word", false));
    out->push_back(std::move(a));
  }
  return Ok{};
}

// A special token in tokenizer_config.json: "<s>", {"content": "<s>", ...} or null ("").
Result<std::string> config_token(const HfJson& hf, const json& cfg, const char* key) {
  const json* v = hf.find(cfg, key);
  if (!v) return std::string();
  if (v->is_string()) return v->get<std::string>();
  if (v->is_object()) {
    const json* c = hf.find(*v, "content");
    if (c) return hf.string(*c, std::string(key) + ".content");
  }
  return hf.wrong_type(key, "a string or an object with \"content\"", *v);
}

Status read_config(const std::string& path, TokenizerSpec* spec) {
  HfJson hf(path);
  TRY(json cfg, hf.load());
  auto id_of = [&](const std::string& content) -> int32_t {
    for (size_t i = 0; i < spec->tokens.size(); ++i) {
      if (spec->tokens[i] == content) return int32_t(i);
    }
    return -1;
  };
  auto set_id = [&](const char* key, int32_t* id, bool keep_existing) -> Status {
    TRY(std::string content, config_token(hf, cfg, key));
    if (content.empty()) return Ok{};
    int32_t found = id_of(content);
    if (found < 0) return hf.error(key, "token '" + content + "' is not in the vocabulary");
    if (!keep_existing || *id < 0) *id = found;
    return Ok{};
  };
  // The post-processor's BOS is what HF inserts; the config names the rest.
  TRY_STATUS(set_id("bos_token", &spec->bos_id, spec->add_bos));
  TRY_STATUS(set_id("eos_token", &spec->eos_id, false));
  TRY_STATUS(set_id("unk_token", &spec->unk_id, false));
  TRY_STATUS(set_id("pad_token", &spec->pad_id, false));
  TRY(spec->add_bos, hf.bool_or(cfg, "add_bos_token", "add_bos_token", spec->add_bos));
  TRY(spec->add_eos, hf.bool_or(cfg, "add_eos_token", "add_eos_token", spec->add_eos));

  const json* tmpl = hf.find(cfg, "chat_template");
  if (tmpl && tmpl->is_string()) {
    spec->chat_template = tmpl->get<std::string>();
  } else if (tmpl && tmpl->is_array()) {
    for (size_t i = 0; i < tmpl->size(); ++i) {
      const json& e = (*tmpl)[i];
      std::string f = str_cat("chat_template[", i, "]");
      if (!e.is_object()) return hf.wrong_type(f, "an object {name, template}", e);
      TRY(std::string name, hf.string_or(e, "name", f + ".name", ""));
      TRY(std::string text, hf.string_or(e, "template", f + ".template", ""));
      if (name == "default" || (i == 0 && spec->chat_template.empty())) spec->chat_template = text;
      if (name == "default") break;
    }
  } else if (tmpl) {
    return hf.wrong_type("chat_template", "a string or a list of {name, template}", *tmpl);
  }
  return Ok{};
}

}  // namespace

Result<TokenizerSpec> tokenizer_spec_from_hf(const std::string& tokenizer_json_path,
                                             const std::string& tokenizer_config_path) {
  HfJson hf(tokenizer_json_path);
  TRY(json root, hf.load());
  TokenizerSpec spec;
  std::vector<std::pair<std::string, int64_t>> vocab;
  std::vector<HfAdded> added;
  bool byte_fallback = false;
  std::string unk;
  TRY_STATUS(read_model(hf, root, &spec.merges, &vocab, &byte_fallback, &unk, &spec));
  TRY_STATUS(read_added(hf, root, &added));

  int64_t size = 0;
  for (const auto& [piece, id] : vocab) size = std::max(size, id + 1);
  for (const HfAdded& a : added) size = std::max<int64_t>(size, a.token.id + 1);
  if (size == 0) return hf.error("model.vocab", "empty vocabulary");
  if (size > (int64_t(1) << 24)) return hf.error("model.vocab", str_cat("ids up to ", size - 1, " are implausible"));
  // Ids are dense in real vocabularies; one far past the entry count would make a tiny file
  // allocate a huge vocabulary.
  const int64_t entries = int64_t(vocab.size() + added.size());
  if (size > 2 * entries + 1024)
    return hf.error("model.vocab", str_cat("ids up to ", size - 1, " for only ", entries,
                                           " vocab and added_tokens entries are implausible"));
  spec.tokens.assign(size_t(size), "");
  spec.token_types.assign(size_t(size), TokenType::kUnused);
  for (auto& [piece, id] : vocab) {
    spec.token_types[size_t(id)] = byte_fallback && is_byte_piece(piece) ? TokenType::kByte : TokenType::kNormal;
    spec.tokens[size_t(id)] = std::move(piece);
  }
  for (const HfAdded& a : added) {
    spec.tokens[size_t(a.token.id)] = a.content;
    spec.token_types[size_t(a.token.id)] = a.special ? TokenType::kControl : TokenType::kUserDefined;
    spec.added_tokens.push_back(a.token);
  }
  if (!unk.empty()) {
    for (size_t i = 0; i < spec.tokens.size(); ++i) {
      if (spec.tokens[i] == unk) {
        spec.unk_id = int32_t(i);
        spec.token_types[i] = TokenType::kUnknown;
        break;
      }
    }
    if (spec.unk_id < 0) return hf.error("model.unk_token", "'" + unk + "' is not in the vocabulary");
  }
  spec.byte_fallback = byte_fallback;
  TRY_STATUS(apply_hf_pipeline(hf, root, byte_fallback, &spec));
  if (!tokenizer_config_path.empty()) TRY_STATUS(read_config(tokenizer_config_path, &spec));
  for (int32_t id : {spec.bos_id, spec.eos_id}) {
    if (id < -1 || id >= size) return hf.error("post_processor", str_cat("special token id ", id, " is outside the vocabulary"));
  }
  spec.pre = spec.kind == TokenizerSpec::Kind::kByteLevelBpe ? "hf-byte-level" : "hf-sentencepiece";
  add_default_eog_ids(&spec);
  return spec;
}

}  // namespace trapetum
