// trapetum's own weight codecs: block layouts (shared by every backend) and reference
// quantize/dequantize of one row. Rows of any length are allowed: the last block of a row is
// zero-padded. docs/cbk-format.md gives the byte layouts; codec.cpp gives sizes and names.
#pragma once

#include <cstdint>

namespace trapetum {

// q8: x = d * q, q in [-127, 127]; the GGUF Q8_0 block (BlockQ8_0), groups of 32.
void quantize_q8(const float* src, void* dst, int64_t n, const float* importance);
void dequantize_q8(const void* src, float* dst, int64_t n);

// q4gG: x = d * q + m, q in [0, 15]. Block: fp16 d, fp16 m, G/2 bytes; byte j holds element j
// in its low nibble and element j + G/2 in its high nibble.
inline constexpr int64_t q4g_block_bytes(int64_t group) { return 4 + group / 2; }
template <int G>
void quantize_q4g(const float* src, void* dst, int64_t n, const float* importance);
template <int G>
void dequantize_q4g(const void* src, float* dst, int64_t n);

}  // namespace trapetum
