// UTF-8 helpers: validation by the ranges of Unicode Table 3-7, lossy repair, byte-level table.
#include "tokenizer/unicode.h"

namespace trapetum {
namespace {

// Sequence length announced by a lead byte (0: not a lead byte) and the allowed range of
// the second byte; later continuation bytes are always 0x80..0xBF.
struct Lead {
  int len;
  uint8_t lo, hi;
};

Lead lead_of(uint8_t b) {
  if (b < 0x80) return {1, 0, 0};
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b >= 0xE1 && b <= 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

// Number of bytes after s[i] that continue the sequence correctly (at most lead.len - 1).
size_t valid_continuations(std::string_view s, size_t i, const Lead& lead) {
  size_t k = 1;
  for (; k < size_t(lead.len) && i + k < s.size(); ++k) {
    uint8_t c = uint8_t(s[i + k]);
    uint8_t lo = k == 1 ? lead.lo : 0x80, hi = k == 1 ? lead.hi : 0xBF;
    if (c < lo || c > hi) break;
  }
  return k - 1;
}

}  // namespace

size_t utf8_valid_len(std::string_view s, size_t i) {
  Lead lead = lead_of(uint8_t(s[i]));
  if (lead.len == 0) return 0;
  if (lead.len == 1) return 1;
  return valid_continuations(s, i, lead) == size_t(lead.len - 1) ? size_t(lead.len) : 0;
}

size_t utf8_invalid_len(std::string_view s, size_t i) {
  Lead lead = lead_of(uint8_t(s[i]));
  if (lead.len <= 1) return 1;
  return 1 + valid_continuations(s, i, lead);
}

size_t utf8_incomplete_tail(std::string_view s) {
  for (size_t k = 1; k <= 3 && k <= s.size(); ++k) {
    size_t p = s.size() - k;
    Lead lead = lead_of(uint8_t(s[p]));
    if (lead.len == 0) continue;  // a continuation byte (or invalid): look further back
    if (size_t(lead.len) <= k) return 0;
    return valid_continuations(s, p, lead) == k - 1 ? k : 0;
  }
  return 0;
}

char32_t utf8_decode(std::string_view s, size_t i, size_t n) {
  const auto* p = reinterpret_cast<const uint8_t*>(s.data() + i);
  switch (n) {
    case 1: return p[0];
    case 2: return char32_t(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
    case 3: return char32_t(p[0] & 0x0F) << 12 | char32_t(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
    default:
      return char32_t(p[0] & 0x07) << 18 | char32_t(p[1] & 0x3F) << 12 | char32_t(p[2] & 0x3F) << 6 |
             (p[3] & 0x3F);
  }
}

void utf8_append(std::string* out, char32_t cp) {
  if (cp < 0x80) {
    out->push_back(char(cp));
  } else if (cp < 0x800) {
    out->push_back(char(0xC0 | (cp >> 6)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(char(0xE0 | (cp >> 12)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(char(0xF0 | (cp >> 18)));
    out->push_back(char(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(char(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(char(0x80 | (cp & 0x3F)));
  }
}

std::string utf8_lossy(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_valid_len(s, i);
    if (n) {
      out.append(s.substr(i, n));
      i += n;
    } else {
      utf8_append(&out, kReplacementChar);
      i += utf8_invalid_len(s, i);
    }
  }
  return out;
}

bool utf8_is_valid(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = utf8_valid_len(s, i);
    if (!n) return false;
    i += n;
  }
  return true;
}

bool is_unicode_whitespace(char32_t cp) {
  return (cp >= 0x09 && cp <= 0x0D) || cp == 0x20 || cp == 0x85 || cp == 0xA0 || cp == 0x1680 ||
         (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 || cp == 0x202F ||
         cp == 0x205F || cp == 0x3000;
}

ByteUnicodeMap::ByteUnicodeMap() {
  byte_of_.fill(-1);
  char32_t next = 256;
  for (int b = 0; b < 256; ++b) {
    bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    char32_t cp = printable ? char32_t(b) : next++;
    utf8_append(&utf8_[b], cp);
    byte_of_[cp] = int16_t(b);
  }
}

}  // namespace trapetum
