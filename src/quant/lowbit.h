// trapetum's own weight codecs: block layouts (shared by every backend) and reference
// quantize/dequantize of one row. Rows of any length are allowed: the last block of a row is
// zero-padded. docs/cbk-format.md gives the byte layouts; codec.cpp gives sizes and names.
#pragma once

#include <cmath>
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

// cb4: 4-bit codes into a per-row codebook; x = c[q]. Row: 16 fp16 centroids, ascending (32
// bytes), then ceil(n / 32) BlockCb4. Centroids are fitted by weighted 1-D k-means.
inline constexpr int64_t kCb4Block = 32;          // elements per BlockCb4
inline constexpr int64_t kCb4HeaderBytes = 32;    // the row codebook: uint16_t[16]
struct BlockCb4 {
  uint8_t qs[kCb4Block / 2];  // byte j: element j in the low nibble, j + 16 in the high nibble
};
static_assert(sizeof(BlockCb4) == 16);
void quantize_cb4(const float* src, void* dst, int64_t n, const float* importance);
void dequantize_cb4(const void* src, float* dst, int64_t n);

// cb4s: cb4's row codebook plus a log-scale byte per 64 elements: x = c[q] * cb4s_scale(e).
// Row: 16 fp16 centroids, ascending (32 bytes), then ceil(n / 64) BlockCb4s. Scales span 16
// octaves in steps of 2^(1/16); e = 255 is an all-zero group. 4.1875 bits/weight at n = 4096.
inline constexpr int64_t kCb4sBlock = 64;  // elements per BlockCb4s
struct BlockCb4s {
  uint8_t e;                   // scale 2^(-e/16), or 0 for e = 255
  uint8_t qs[kCb4sBlock / 2];  // byte j: element j in the low nibble, j + 32 in the high nibble
};
static_assert(sizeof(BlockCb4s) == 33);
// 2^(-j/16) rounded to float; every backend must use these exact values.
inline constexpr float kCb4sScaleFrac[16] = {
    0x1p+0f,         0x1.ea4afap-1f, 0x1.d5818ep-1f, 0x1.c199bep-1f, 0x1.ae89fap-1f, 0x1.9c4918p-1f,
    0x1.8ace54p-1f, 0x1.7a1148p-1f, 0x1.6a09e6p-1f, 0x1.5ab07ep-1f, 0x1.4bfdaep-1f, 0x1.3dea64p-1f,
    0x1.306fe0p-1f, 0x1.2387a6p-1f, 0x1.172b84p-1f, 0x1.0b5586p-1f};
inline float cb4s_scale(uint8_t e) { return e == 255 ? 0.0f : std::ldexp(kCb4sScaleFrac[e & 15], -(e >> 4)); }
void quantize_cb4s(const float* src, void* dst, int64_t n, const float* importance);
void dequantize_cb4s(const void* src, float* dst, int64_t n);

// t158: ternary, x = d * t with t in {-1, 0, +1}, groups of 128. Code c = t + 1 (0: -1, 1: 0,
// 2: +1; 3 is never written and reads as 0); byte j holds elements j, j + 32, j + 64, j + 96
// in bits 0-1, 2-3, 4-5, 6-7. Padding elements have code 1. 2.125 bits/weight.
inline constexpr int64_t kT158Block = 128;
struct BlockT158 {
  uint16_t d;                   // fp16 scale
  uint8_t qs[kT158Block / 4];  // 2-bit codes
};
static_assert(sizeof(BlockT158) == 34);
void quantize_t158(const float* src, void* dst, int64_t n, const float* importance);
void dequantize_t158(const void* src, float* dst, int64_t n);

// t158p: t158's values and scales with 5 trits per byte. Byte j (0..25) holds elements j + 26 k
// for k = 0..4 as the base-3 number sum (t + 1) * 3^k (0..242); the two trits past element
// 127, and padding elements, are 1 (zero). 1.75 bits/weight.
inline constexpr int64_t kT158PBytes = 26;  // code bytes per 128 elements
struct BlockT158P {
  uint16_t d;                // fp16 scale
  uint8_t qs[kT158PBytes];  // base-3 codes
};
static_assert(sizeof(BlockT158P) == 28);
void quantize_t158p(const float* src, void* dst, int64_t n, const float* importance);
void dequantize_t158p(const void* src, float* dst, int64_t n);

}  // namespace trapetum
