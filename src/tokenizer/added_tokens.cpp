// Added-token splitting: a scan for the leftmost match (longest first at that position), then
// HF's lstrip/rstrip/single_word adjustments.
#include "tokenizer/added_tokens.h"

#include <algorithm>

#include "tokenizer/unicode.h"

namespace trapetum {
namespace {

// The code point that ends at byte `end` (exclusive), or U+FFFD for an invalid byte.
char32_t cp_before(std::string_view s, size_t end, size_t* len) {
  size_t start = end - 1;
  while (start > 0 && end - start < 4 && (uint8_t(s[start]) & 0xC0) == 0x80) --start;
  size_t n = utf8_valid_len(s, start);
  if (n != end - start) {
    *len = 1;
    return kReplacementChar;
  }
  *len = n;
  return utf8_decode(s, start, n);
}

char32_t cp_at(std::string_view s, size_t i, size_t* len) {
  size_t n = utf8_valid_len(s, i);
  *len = n ? n : 1;
  return n ? utf8_decode(s, i, n) : kReplacementChar;
}

// Approximates Rust's Unicode \w: ASCII alphanumerics and '_', and any non-space non-ASCII
// character (HF single_word tokens are rare; none of the supported vocabularies use them).
bool is_word_char(char32_t cp) {
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == '_';
  return !is_unicode_whitespace(cp) && cp != kReplacementChar;
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(const std::vector<AddedToken>& tokens,
                                     const std::vector<std::string>& contents)
    : by_first_byte_(256) {
  for (const AddedToken& t : tokens) {
    if (t.id < 0 || size_t(t.id) >= contents.size() || contents[size_t(t.id)].empty()) continue;
    const std::string& c = contents[size_t(t.id)];
    by_first_byte_[uint8_t(c[0])].push_back({c, t});
  }
  for (auto& group : by_first_byte_) {
    std::stable_sort(group.begin(), group.end(),
                     [](const Entry& a, const Entry& b) { return a.content.size() > b.content.size(); });
  }
}

std::vector<TextFragment> AddedTokenMatcher::split(std::string_view text) const {
  std::vector<TextFragment> out;
  size_t plain_start = 0;  // end of the previous token match
  size_t pos = 0;
  while (pos < text.size()) {
    const Entry* hit = nullptr;
    for (const Entry& e : by_first_byte_[uint8_t(text[pos])]) {
      if (text.compare(pos, e.content.size(), e.content) == 0) {
        hit = &e;
        break;
      }
    }
    if (!hit) {
      ++pos;
      continue;
    }
    size_t start = pos, stop = pos + hit->content.size(), len = 0;
    pos = stop;
    if (hit->token.single_word) {
      bool word_before = start > 0 && is_word_char(cp_before(text, start, &len));
      bool word_after = stop < text.size() && is_word_char(cp_at(text, stop, &len));
      if (word_before || word_after) continue;
    }
    if (hit->token.lstrip) {
      while (start > plain_start && is_unicode_whitespace(cp_before(text, start, &len))) start -= len;
    }
    if (hit->token.rstrip) {
      while (stop < text.size() && is_unicode_whitespace(cp_at(text, stop, &len))) stop += len;
      pos = stop;
    }
    if (start > plain_start) out.push_back({-1, text.substr(plain_start, start - plain_start), plain_start});
    out.push_back({hit->token.id, {}, start});
    plain_start = stop;
  }
  if (plain_start < text.size()) out.push_back({-1, text.substr(plain_start), plain_start});
  return out;
}

}  // namespace trapetum
