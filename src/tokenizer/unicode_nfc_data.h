// Unicode tables for NFC (defined in the generated unicode_nfc_data.cpp).
#pragma once

#include <cstdint>

namespace trapetum::nfc_data {

struct CodepointTriple {
  uint32_t a, b, c;
};

extern const CodepointTriple kCombiningClass[];  // {first, last, class}, sorted
extern const int kCombiningClassCount;
extern const CodepointTriple kDecomposition[];   // {code point, first, second or 0}, sorted
extern const int kDecompositionCount;
extern const CodepointTriple kComposition[];     // {first, second, composite}, sorted
extern const int kCompositionCount;

}  // namespace trapetum::nfc_data
