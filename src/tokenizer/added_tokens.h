// Splits input text on added/special tokens (leftmost match, longest first, as HF's
// AddedVocabulary does), honouring lstrip/rstrip/single_word.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/tokenizer.h"

namespace trapetum {

struct TextFragment {
  int32_t token = -1;     // an added token's id, or -1 for plain text
  std::string_view text;  // plain text (empty for tokens)
  size_t offset = 0;      // byte offset of the fragment in the input
};

class AddedTokenMatcher {
 public:
  // tokens[i].id indexes contents; empty contents are ignored.
  AddedTokenMatcher(const std::vector<AddedToken>& tokens, const std::vector<std::string>& contents);

  std::vector<TextFragment> split(std::string_view text) const;

 private:
  struct Entry {
    std::string content;
    AddedToken token;
  };
  // Entries grouped by first byte, longest content first within a group.
  std::vector<std::vector<Entry>> by_first_byte_;
};

}  // namespace trapetum
