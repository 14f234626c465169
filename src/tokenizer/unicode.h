// UTF-8 helpers for the tokenizers: code point decoding that tolerates invalid bytes, lossy
// repair (Rust's from_utf8_lossy rules), whitespace classes and GPT-2's byte-to-unicode table.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace trapetum {

constexpr char32_t kReplacementChar = 0xFFFD;

// Length of the valid UTF-8 sequence starting at s[i]; 0 when s[i] does not start one (an
// invalid or truncated sequence). Overlong forms and surrogates are invalid.
size_t utf8_valid_len(std::string_view s, size_t i);

// Length of the maximal invalid subpart at s[i] (>= 1): the bytes one U+FFFD replaces.
size_t utf8_invalid_len(std::string_view s, size_t i);

// True when s ends in the first bytes of a valid sequence that more bytes could complete.
// Returns the number of such bytes (0 if none).
size_t utf8_incomplete_tail(std::string_view s);

// Decodes the code point of a valid sequence of length n at s[i].
char32_t utf8_decode(std::string_view s, size_t i, size_t n);

void utf8_append(std::string* out, char32_t cp);

// Replaces each maximal invalid subpart by U+FFFD.
std::string utf8_lossy(std::string_view s);
bool utf8_is_valid(std::string_view s);

// Unicode White_Space (what \s means in Rust's regex).
bool is_unicode_whitespace(char32_t cp);

// GPT-2's bytes_to_unicode: every byte maps to a printable code point.
class ByteUnicodeMap {
 public:
  ByteUnicodeMap();
  const std::string& encode(uint8_t b) const { return utf8_[b]; }  // UTF-8 of the mapped char
  // The byte a code point stands for, or -1 when cp is not in the table.
  int decode(char32_t cp) const { return cp < kMax ? byte_of_[cp] : -1; }

 private:
  static constexpr char32_t kMax = 0x144;
  std::array<std::string, 256> utf8_;
  std::array<int16_t, kMax> byte_of_;
};

}  // namespace trapetum
