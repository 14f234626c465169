// The contract between the GEMV dispatcher and the per-ISA kernel files: one fused row-dot
// kernel per codec and activation mode. Plain declarations only, because this header is
// included by files compiled with ISA flags (an inline function here could leak AVX-512 code).
#pragma once

#include <cstdint>

namespace trapetum::cpu {

inline constexpr int kGemvCodecs = 16;  // == int(DType::kCount); checked in gemv.cpp
inline constexpr int64_t kActBlock = 32;  // elements per int8 activation block and per x sum

// One token's activations, prepared once per matmul for every row.
struct GemvActs {
  const float* x;         // (kpad) the activations, zero past k
  const float* xsum;      // (kpad / 32) sums of x over each block of 32
  const int8_t* q;        // (kpad) x quantized per block of 32: x ~ qd[b] * q (int8 mode only)
  const float* qd;        // (kpad / 32) block scales
  const int32_t* qsum;    // (kpad / 32) sums of q over each block
  const float* qdsum;     // (kpad / 32) qd[b] * qsum[b]
  const float* qd8;       // (kpad / 4) qd[b] repeated 8 times: one 8-lane vector per block
  const int32_t* q4neg;   // (kpad / 4) -128 * (q[4i] + .. + q[4i+3]): starts dot products of
                          // c + 128 bytes so that they come out as exact sums of c * q
};

// Returns sum_j w[j] * x[j] over one packed row of k elements (rows with a partial last
// block read the padding, which meets zeros in x). Sparse outliers are not applied here.
using RowDotFn = float (*)(const uint8_t* row, const GemvActs& a, int64_t k);

// Prepares one token for GemvActs: x (k floats) copied to xp zero-padded to kpad, block sums
// of 32, and with int8 the quantized blocks (d = max |x| / 127, q = round-to-even(x / d)).
using PrepareFn = void (*)(const float* x, int64_t k, int64_t kpad, bool int8, float* xp, float* xsum, int8_t* q,
                           float* qd, int32_t* qsum, float* qdsum);

// out[i] = the int8 kernel's dot of one packed row with token a[i], for 1 <= m <= kGemvMultiMax
// tokens: the row is unpacked once for all of them. Each token's result is independent of m.
inline constexpr int kGemvMultiMax = 8;
using RowDotMultiFn = void (*)(const uint8_t* row, const GemvActs* a, int m, int64_t k, float* out);

// The same for 16 consecutive rows, row r at row0 + r * stride: out[i * 16 + r].
inline constexpr int kGemvTileRows = 16;
using RowTileFn = void (*)(const uint8_t* row0, int64_t stride, const GemvActs* a, int m, int64_t k, float* out);

struct GemvTable {
  RowDotFn f32[kGemvCodecs];         // float activations: exact dequantized weights, float FMA
  RowDotFn int8[kGemvCodecs];        // int8 activations and integer dot products; null: none
  RowDotMultiFn int8m[kGemvCodecs];  // int8, several tokens per row pass; null: int8 per token
  RowTileFn int8t[kGemvCodecs];      // int8, 16 rows x several tokens; null: int8m row by row
  PrepareFn prepare;
};

// cb4 / cb4s with int8 activations also round the row's 16 centroids (the row header) to
// int8 against the largest: c8 = nearbyint(c * (127 / s)), s = max |c|, so that
// w ~ s / 127 * c8 (times the group scale for cb4s). Returns s / 127. Every int8 cb4 kernel
// reproduces this rounding exactly.
float cb4_int8_codebook(const uint8_t* row, int8_t c8[16]);

void fill_gemv_generic(GemvTable* t);
void fill_gemv_avx2(GemvTable* t);
void fill_gemv_avx512(GemvTable* t);
void fill_gemv_neon(GemvTable* t);

}  // namespace trapetum::cpu
