// tokenizer_spec_from_gguf: the tokenizer.ggml.* metadata of a GGUF file, validated (array
// lengths agree, ids inside the vocabulary) with errors naming the file and the key.

#include "io/gguf.h"
#include "tokenizer/pre_tokenizer.h"
#include "tokenizer/tokenizer.h"

namespace trapetum {
namespace {

// Reads an optional token id; absent, -1 and 0xFFFFFFFF (the converters' "none") give fallback.
Result<int32_t> read_id(const GgufFile& g, const std::string& key, size_t n_tokens, int32_t fallback) {
  TRY(std::optional<int64_t> v, g.get_int(key));
  if (!v || *v == -1 || *v == 0xFFFFFFFFll) return fallback;
  if (*v < 0 || *v >= int64_t(n_tokens)) {
    return make_error(g.path(), ": ", key, " = ", *v, " is outside the vocabulary (", n_tokens, " tokens)");
  }
  return int32_t(*v);
}

// Reads an optional string ("" when absent); *present says whether the key exists.
Result<std::string> read_string(const GgufFile& g, const std::string& key, bool* present) {
  auto r = g.get_string(key);
  if (!r.ok()) return std::move(r).take_error();
  const std::optional<std::string>& v = r.value();
  *present = v.has_value();
  return v ? *v : std::string();
}

Result<bool> read_bool(const GgufFile& g, const std::string& key, bool fallback) {
  TRY(std::optional<bool> v, g.get_bool(key));
  return v ? *v : fallback;
}

}  // namespace

Result<TokenizerSpec> tokenizer_spec_from_gguf(const GgufFile& g) {
  const std::string& path = g.path();
  TokenizerSpec spec;
  bool present = false;
  TRY(std::string model, read_string(g, "tokenizer.ggml.model", &present));
  if (!present) return make_error(path, ": tokenizer.ggml.model: missing (no tokenizer in this file)");
  if (model == "llama") {
    spec.kind = TokenizerSpec::Kind::kSentencePieceBpe;
  } else if (model == "gpt2") {
    spec.kind = TokenizerSpec::Kind::kByteLevelBpe;
  } else {
    return make_error(path, ": tokenizer.ggml.model: unsupported value '", model,
                      "' (supported: 'llama' = SentencePiece-BPE, 'gpt2' = byte-level BPE)");
  }
  const bool spm = spec.kind == TokenizerSpec::Kind::kSentencePieceBpe;

  TRY(const std::vector<std::string>* tokens, g.get_string_array("tokenizer.ggml.tokens"));
  if (!tokens) return make_error(path, ": tokenizer.ggml.tokens: missing");
  if (tokens->empty()) return make_error(path, ": tokenizer.ggml.tokens: empty array");
  const size_t n = tokens->size();
  spec.tokens = *tokens;

  TRY(const std::vector<double>* scores, g.get_float_array("tokenizer.ggml.scores"));
  if (scores) {
    if (scores->size() != n) {
      return make_error(path, ": tokenizer.ggml.scores: expected ", n, " entries (one per token), got ", scores->size());
    }
    spec.scores.assign(scores->begin(), scores->end());
  }
  TRY(const std::vector<int64_t>* types, g.get_int_array("tokenizer.ggml.token_type"));
  if (types) {
    if (types->size() != n) {
      return make_error(path, ": tokenizer.ggml.token_type: expected ", n, " entries (one per token), got ",
                        types->size());
    }
    spec.token_types.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      int64_t t = (*types)[i];
      if (t < 1 || t > 6) {
        return make_error(path, ": tokenizer.ggml.token_type[", i, "] = ", t, ": expected 1..6");
      }
      spec.token_types.push_back(TokenType(t));
    }
  } else {
    spec.token_types.assign(n, TokenType::kNormal);
  }
  TRY(const std::vector<std::string>* merges, g.get_string_array("tokenizer.ggml.merges"));
  if (merges) spec.merges = *merges;
  if (!spm && spec.merges.empty()) {
    return make_error(path, ": tokenizer.ggml.merges: missing (required for tokenizer.ggml.model 'gpt2')");
  }
  if (spm && spec.merges.empty() && spec.scores.empty()) {
    return make_error(path, ": tokenizer.ggml.scores: missing (required for tokenizer.ggml.model 'llama' without merges)");
  }

  // llama.cpp's defaults for SentencePiece vocabularies: <unk> 0, <s> 1, </s> 2.
  TRY(spec.bos_id, read_id(g, "tokenizer.ggml.bos_token_id", n, spm && n > 1 ? 1 : -1));
  TRY(spec.eos_id, read_id(g, "tokenizer.ggml.eos_token_id", n, spm && n > 2 ? 2 : -1));
  TRY(spec.unk_id, read_id(g, "tokenizer.ggml.unknown_token_id", n, spm ? 0 : -1));
  TRY(spec.pad_id, read_id(g, "tokenizer.ggml.padding_token_id", n, -1));
  TRY(int32_t eot, read_id(g, "tokenizer.ggml.eot_token_id", n, -1));
  TRY(int32_t eom, read_id(g, "tokenizer.ggml.eom_token_id", n, -1));
  if (eot >= 0) spec.eog_ids.push_back(eot);
  if (eom >= 0 && eom != eot) spec.eog_ids.push_back(eom);
  add_default_eog_ids(&spec);

  TRY(spec.add_bos, read_bool(g, "tokenizer.ggml.add_bos_token", spm));
  TRY(spec.add_eos, read_bool(g, "tokenizer.ggml.add_eos_token", false));
  TRY(spec.add_space_prefix, read_bool(g, "tokenizer.ggml.add_space_prefix", spm));
  TRY(spec.chat_template, read_string(g, "tokenizer.chat_template", &present));
  TRY(spec.pre, read_string(g, "tokenizer.ggml.pre", &present));
  if (!present) spec.pre = "default";

  if (!spm) {
    bool known = false;
    spec.pre_regexes = pre_patterns_for_gguf(spec.pre, &known, &spec.normalize_nfc, &spec.ignore_merges);
    if (!known)
      return make_error(path, ": tokenizer.ggml.pre '", spec.pre,
                        "' is not a supported pre-tokenizer (supported: ", supported_gguf_pre_names(), ")");
  }
  return spec;
}

}  // namespace trapetum
