// GGUF (ggml) block layouts read directly from GGUF files: Q8_0, Q4_0, Q4_1, Q4_K, Q6_K,
// with their reference dequantization. Layouts follow the published GGUF format.
#pragma once

#include <cstdint>

namespace trapetum {

inline constexpr int kQK = 32;    // elements per Q8_0/Q4_0/Q4_1 block
inline constexpr int kQKK = 256;  // elements per K-quant super-block

struct BlockQ8_0 {
  uint16_t d;       // fp16 scale
  int8_t qs[kQK];   // x = d * q
};
static_assert(sizeof(BlockQ8_0) == 34);

struct BlockQ4_0 {
  uint16_t d;            // fp16 scale
  uint8_t qs[kQK / 2];   // low nibbles: elements 0..15, high nibbles: 16..31; x = d * (q - 8)
};
static_assert(sizeof(BlockQ4_0) == 18);

struct BlockQ4_1 {
  uint16_t d;            // fp16 scale
  uint16_t m;            // fp16 minimum
  uint8_t qs[kQK / 2];   // as Q4_0; x = d * q + m
};
static_assert(sizeof(BlockQ4_1) == 20);

struct BlockQ4_K {
  uint16_t d;            // fp16 super-block scale of the 6-bit scales
  uint16_t dmin;         // fp16 super-block scale of the 6-bit mins
  uint8_t scales[12];    // 8 (scale, min) pairs of 6 bits each
  uint8_t qs[kQKK / 2];  // 4-bit quants; each 64 elements use 32 bytes (low nibbles first)
};
static_assert(sizeof(BlockQ4_K) == 144);

struct BlockQ6_K {
  uint8_t ql[kQKK / 2];  // low 4 bits of the quants
  uint8_t qh[kQKK / 4];  // high 2 bits of the quants
  int8_t scales[16];     // 8-bit sub-block scales, one per 16 elements
  uint16_t d;            // fp16 super-block scale
};
static_assert(sizeof(BlockQ6_K) == 210);

void dequantize_q8_0(const void* src, float* dst, int64_t n);
void dequantize_q4_0(const void* src, float* dst, int64_t n);
void dequantize_q4_1(const void* src, float* dst, int64_t n);
void dequantize_q4_k(const void* src, float* dst, int64_t n);
void dequantize_q6_k(const void* src, float* dst, int64_t n);

}  // namespace trapetum
