// Tokenizer factory (spec validation, end-of-generation ids) and the streaming UTF-8 decoder.
#include "tokenizer/tokenizer.h"

#include <algorithm>

#include "tokenizer/unicode.h"
#include "tokenizer/vocab_tokenizer.h"

namespace trapetum {
namespace {

Status check_id(const TokenizerSpec& spec, const char* field, int32_t id) {
  if (id < -1 || id >= int32_t(spec.tokens.size())) {
    return make_error("tokenizer spec: ", field, " = ", id, " is outside the vocabulary [0, ", spec.tokens.size(), ")");
  }
  return Ok{};
}

Status validate(TokenizerSpec* spec) {
  const size_t n = spec->tokens.size();
  if (n == 0) return make_error("tokenizer spec: tokens: the vocabulary is empty");
  if (spec->token_types.empty()) spec->token_types.assign(n, TokenType::kNormal);
  if (spec->token_types.size() != n) {
    return make_error("tokenizer spec: token_types: expected ", n, " entries (one per token), got ",
                      spec->token_types.size());
  }
  if (!spec->scores.empty() && spec->scores.size() != n) {
    return make_error("tokenizer spec: scores: expected ", n, " entries (one per token), got ", spec->scores.size());
  }
  if (spec->kind == TokenizerSpec::Kind::kSentencePieceBpe && spec->merges.empty() && spec->scores.empty()) {
    return make_error("tokenizer spec: SentencePiece-BPE needs scores or merges; both are empty");
  }
  if (spec->kind == TokenizerSpec::Kind::kByteLevelBpe && spec->merges.empty()) {
    return make_error("tokenizer spec: merges: byte-level BPE needs merges; none given");
  }
  TRY_STATUS(check_id(*spec, "bos_id", spec->bos_id));
  TRY_STATUS(check_id(*spec, "eos_id", spec->eos_id));
  TRY_STATUS(check_id(*spec, "unk_id", spec->unk_id));
  TRY_STATUS(check_id(*spec, "pad_id", spec->pad_id));
  for (int32_t id : spec->eog_ids) TRY_STATUS(check_id(*spec, "eog_ids", id < 0 ? -2 : id));
  for (const AddedToken& t : spec->added_tokens) TRY_STATUS(check_id(*spec, "added_tokens", t.id < 0 ? -2 : t.id));
  return Ok{};
}

}  // namespace

void add_default_eog_ids(TokenizerSpec* spec) {
  auto add = [&](int32_t id) {
    if (id >= 0 && std::find(spec->eog_ids.begin(), spec->eog_ids.end(), id) == spec->eog_ids.end()) {
      spec->eog_ids.push_back(id);
    }
  };
  add(spec->eos_id);
  static constexpr const char* kNames[] = {"<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|endoftext|>",
                                           "</s>", "<end_of_turn>", "<|eom_id|>"};
  for (size_t i = 0; i < spec->tokens.size(); ++i) {
    for (const char* name : kNames) {
      if (spec->tokens[i] == name) add(int32_t(i));
    }
  }
}

Result<std::unique_ptr<Tokenizer>> Tokenizer::create(TokenizerSpec spec) {
  TRY_STATUS(validate(&spec));
  add_default_eog_ids(&spec);
  if (spec.kind == TokenizerSpec::Kind::kSentencePieceBpe) return make_spm_tokenizer(std::move(spec));
  return make_byte_level_tokenizer(std::move(spec));
}

bool Tokenizer::is_end_of_generation(int32_t id) const {
  return std::find(spec_.eog_ids.begin(), spec_.eog_ids.end(), id) != spec_.eog_ids.end();
}

// Emits complete characters and bytes that can never become valid (as U+FFFD); keeps a trailing
// incomplete sequence for the next token.
std::string StreamDecoder::push(int32_t id) {
  pending_ += tok_.token_bytes(id, skip_special_);
  size_t keep = utf8_incomplete_tail(pending_);
  std::string out = utf8_lossy(std::string_view(pending_).substr(0, pending_.size() - keep));
  pending_.erase(0, pending_.size() - keep);
  return out;
}

std::string StreamDecoder::flush() {
  std::string out = utf8_lossy(pending_);
  pending_.clear();
  return out;
}

}  // namespace trapetum
