// Tokenizer: text <-> token ids for SentencePiece-BPE and byte-level BPE vocabularies,
// built from GGUF metadata or from HuggingFace tokenizer.json + tokenizer_config.json.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace trapetum {

class GgufFile;

// GGUF token types (tokenizer.ggml.token_type).
enum class TokenType : int32_t {
  kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6,
};

// How a pre-tokenizer split treats the text its pattern matched (HF SplitDelimiterBehavior).
enum class SplitBehavior { kIsolated, kRemoved, kMergedWithPrevious, kMergedWithNext, kContiguous };

// A token the input is split on before normal encoding (HF added_tokens; GGUF control/user tokens).
struct AddedToken {
  int32_t id = -1;
  bool lstrip = false;       // swallow whitespace on its left
  bool rstrip = false;       // swallow whitespace on its right
  bool single_word = false;  // only match when not inside a word
};

// SentencePiece-BPE: which text segments (the text between added tokens) get the U+2581 prefix
// when add_space_prefix is set.
enum class SpacePrefix {
  kEvery,           // every non-empty segment (HF Prepend normalizer; llama.cpp)
  kMetaspace,       // every segment not already starting with U+2581 (HF Metaspace "always")
  kMetaspaceFirst,  // only the segment at offset 0, unless it starts with U+2581 (Metaspace "first")
};

// Everything needed to build a tokenizer, whatever the source.
struct TokenizerSpec {
  enum class Kind { kSentencePieceBpe, kByteLevelBpe };
  Kind kind = Kind::kSentencePieceBpe;
  std::vector<std::string> tokens;       // id -> piece as stored (SPM uses U+2581 for space)
  std::vector<float> scores;             // SPM merge scores; may be empty for BPE
  std::vector<TokenType> token_types;    // same length as tokens
  std::vector<std::string> merges;       // "left right", rank order (byte-level BPE; SPM optional)
  std::string pre;                       // pre-tokenizer name (GGUF tokenizer.ggml.pre), informational
  std::vector<std::string> pre_regexes;  // byte-level BPE split patterns, applied in order
  int32_t bos_id = -1, eos_id = -1, unk_id = -1, pad_id = -1;
  std::vector<int32_t> eog_ids;          // ids that end generation (eos, <|im_end|>, <|eot_id|>, ...)
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = true;          // SPM: prepend U+2581 to the text
  std::string chat_template;             // Jinja source, may be empty

  // Additions beyond the basic fields (defaults reproduce llama.cpp / HF for the common cases).
  std::vector<AddedToken> added_tokens;  // empty: every kControl/kUserDefined/kUnknown token
  std::vector<SplitBehavior> pre_behaviors;  // parallel to pre_regexes; empty: all kIsolated
  bool byte_level_prefix_space = false;  // byte-level: prepend ' ' unless the text starts with one
  bool ignore_merges = false;            // byte-level: a pre-token found whole in the vocab is one token
  bool normalize_nfc = false;            // apply Unicode NFC to text between added tokens (Qwen2/3)
  SpacePrefix space_prefix = SpacePrefix::kEvery;  // SPM: where add_space_prefix applies
  bool split_on_space = false;           // SPM: each U+2581 starts a new word (Metaspace split)
  bool byte_fallback = true;             // SPM: characters outside the vocab become <0xXX> tokens
};

class Tokenizer {
 public:
  static Result<std::unique_ptr<Tokenizer>> create(TokenizerSpec spec);
  virtual ~Tokenizer() = default;

  // Encodes text; special-token strings in the text are matched as special tokens.
  // With add_special, BOS/EOS are added as the spec says.
  virtual std::vector<int32_t> encode(std::string_view text, bool add_special) const = 0;
  // Decodes ids to UTF-8 bytes (byte-fallback and byte-level pieces reversed).
  virtual std::string decode(const std::vector<int32_t>& ids, bool skip_special) const = 0;
  // The raw bytes one token contributes to decoded text ("" for control tokens when skipped).
  virtual std::string token_bytes(int32_t id, bool skip_special) const = 0;

  const TokenizerSpec& spec() const { return spec_; }
  int32_t vocab_size() const { return int32_t(spec_.tokens.size()); }
  int32_t bos_id() const { return spec_.bos_id; }
  int32_t eos_id() const { return spec_.eos_id; }
  bool is_end_of_generation(int32_t id) const;

 protected:
  explicit Tokenizer(TokenizerSpec spec) : spec_(std::move(spec)) {}
  TokenizerSpec spec_;
};

// Adds eos_id and the conventional end-of-turn tokens present in the vocabulary (<|im_end|>,
// <|eot_id|>, <|end_of_text|>, <|endoftext|>, </s>, <end_of_turn>, <|eom_id|>) to eog_ids.
void add_default_eog_ids(TokenizerSpec* spec);

// Spec sources. Errors name the file and the field.
Result<TokenizerSpec> tokenizer_spec_from_gguf(const GgufFile& gguf);
Result<TokenizerSpec> tokenizer_spec_from_hf(const std::string& tokenizer_json_path,
                                             const std::string& tokenizer_config_path);

// Turns a stream of token ids into text without ever emitting a partial UTF-8 sequence.
class StreamDecoder {
 public:
  StreamDecoder(const Tokenizer& tok, bool skip_special) : tok_(tok), skip_special_(skip_special) {}
  // Returns the complete UTF-8 text that became available with this token.
  std::string push(int32_t id);
  // Returns whatever is still pending (invalid trailing bytes as U+FFFD).
  std::string flush();

 private:
  const Tokenizer& tok_;
  bool skip_special_;
  std::string pending_;
};

}  // namespace trapetum
