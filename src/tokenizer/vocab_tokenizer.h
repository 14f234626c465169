// VocabTokenizer: what the SentencePiece-BPE and byte-level BPE tokenizers share: the piece ->
// id map, the merge-rank table, added-token splitting, BOS/EOS insertion and special checks.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe_merge.h"
#include "tokenizer/tokenizer.h"

namespace trapetum {

class VocabTokenizer : public Tokenizer {
 public:
  std::vector<int32_t> encode(std::string_view text, bool add_special) const override;

 protected:
  explicit VocabTokenizer(TokenizerSpec spec) : Tokenizer(std::move(spec)) {}
  // Builds the lookup tables from spec_; called once by the factory.
  Status init_vocab();

  // Encodes plain text found between added tokens; at_start: the text begins the input.
  virtual void encode_text(std::string_view text, bool at_start, std::vector<int32_t>* out) const = 0;

  int32_t find(std::string_view piece) const;
  // Control and unknown tokens, BOS and EOS: dropped by decode(skip_special).
  bool is_special(int32_t id) const;
  bool in_range(int32_t id) const { return id >= 0 && id < vocab_size(); }
  // The rank-ordered merge of a pair of ids (candidate.ok false when there is none).
  BpeCandidate merge_of(int32_t left, int32_t right) const;

 private:
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Merge {
    int32_t rank, merged_id;
  };
  std::unordered_map<std::string, int32_t, StringHash, std::equal_to<>> piece_to_id_;
  std::unordered_map<uint64_t, Merge> merges_;  // (left id << 32 | right id) -> rank, result
  std::unique_ptr<AddedTokenMatcher> added_;
};

// Factories for the two kinds (spm_tokenizer.cpp, bpe_tokenizer.cpp); spec already validated.
Result<std::unique_ptr<Tokenizer>> make_spm_tokenizer(TokenizerSpec spec);
Result<std::unique_ptr<Tokenizer>> make_byte_level_tokenizer(TokenizerSpec spec);

}  // namespace trapetum
