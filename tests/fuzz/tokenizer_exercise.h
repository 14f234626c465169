// Exercises a tokenizer the fuzz targets managed to build: encode, decode and the streaming
// decoder, so every loader's output is used.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/check.h"
#include "tokenizer/tokenizer.h"

namespace trapetum::fuzz {

inline void exercise_tokenizer(const Tokenizer& tok, std::string_view text) {
  // One pass per input (the first byte picks the flags) keeps large inputs fast.
  const bool add_special = !text.empty() && (uint8_t(text[0]) & 1) != 0;
  const std::vector<int32_t> ids = tok.encode(text, add_special);
  for (int32_t id : ids) CHECK(id >= 0 && id < tok.vocab_size());
  (void)tok.decode(ids, /*skip_special=*/add_special);
  StreamDecoder stream(tok, /*skip_special=*/!add_special);
  for (int32_t id : ids) (void)stream.push(id);
  (void)stream.flush();
  // The first ids (byte, control and normal pieces alike) decode without crashing.
  std::vector<int32_t> probe;
  for (int32_t id = 0; id < tok.vocab_size() && id < 64; ++id) probe.push_back(id);
  (void)tok.decode(probe, false);
}

// Text that touches spaces, digits, specials, multi-byte UTF-8 and invalid bytes.
inline constexpr std::string_view kProbeText =
    "Hello world!  123 4567\n\t<s></s><|im_start|>user\n h\xC3\xA9llo \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x99\x82 \xFF\xC3";

}  // namespace trapetum::fuzz
