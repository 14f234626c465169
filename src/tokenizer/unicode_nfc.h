// Unicode Normalization Form C (canonical decomposition, reordering, composition), as the HF
// "NFC" normalizer applies it. Invalid UTF-8 bytes pass through unchanged.
#pragma once

#include <string>
#include <string_view>

namespace trapetum {

std::string nfc_normalize(std::string_view s);

}  // namespace trapetum
