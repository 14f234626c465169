// Fused int8-activation row dots for the integer codecs (q8, Q4_0, q4gG/Q4_1, t158), written
// once with AVX2 intrinsics and compiled twice: with AVX2 (pairwise maddubs) and with
// AVX-512 VNNI (dpbusd). Weights are unpacked to unsigned bytes in registers and multiplied
// into the signed int8 activations; each 32-element block's int32 sums are scaled in float.
//
// Include after defining a policy P with static __m256i dot(__m256i u8, __m256i s8): the 8
// int32 sums of 4 adjacent u8 * s8 products. Internal linkage, as gemv_float_body.h.
#pragma once

#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/cpu/gemv_table.h"
#include "quant/ggml_blocks.h"
#include "quant/lowbit.h"

namespace trapetum::cpu {
namespace {

inline __attribute__((always_inline)) float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}
inline __attribute__((always_inline)) float half(const uint8_t* p) {
  uint16_t h;
  std::memcpy(&h, p, 2);
  return _cvtsh_ss(h);
}
inline __attribute__((always_inline)) __m256i load32(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}
// 16 packed bytes -> 32 nibbles: low nibbles in bytes 0..15, high nibbles in bytes 16..31.
inline __attribute__((always_inline)) __m256i nibbles16(const uint8_t* p) {
  const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  const __m128i m = _mm_set1_epi8(15);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(v, 4), m), _mm_and_si128(v, m));
}

// acc += float(sum over the block of u * s) * scale.
template <class P>
inline __attribute__((always_inline)) __m256 scaled(__m256 acc, __m256i u, __m256i s, float scale) {
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(P::dot(u, s)), _mm256_set1_ps(scale), acc);
}

// The fp16 fields at byte 0 (d) and 2 (m) of 8 consecutive blocks of Stride bytes, as floats:
// one gather and two vector conversions instead of 16 scalar ones.
template <int Stride>
inline __attribute__((always_inline)) void load_dm8(const uint8_t* blk, __m256* d, __m256* m) {
  const __m256i idx = _mm256_setr_epi32(0, Stride, 2 * Stride, 3 * Stride, 4 * Stride, 5 * Stride, 6 * Stride,
                                        7 * Stride);
  const __m256i v = _mm256_i32gather_epi32(reinterpret_cast<const int*>(blk), idx, 1);
  // Low halves of the 8 lanes into the low 16 bytes, then fp16 -> float.
  const __m256i pick = _mm256_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1,  //
                                        0, 1, 4, 5, 8, 9, 12, 13, -1, -1, -1, -1, -1, -1, -1, -1);
  auto halves = [&](__m256i x) {
    const __m256i p = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(x, pick), 0x08);
    return _mm256_cvtph_ps(_mm256_castsi256_si128(p));
  };
  *d = halves(v);
  if (m) *m = halves(_mm256_srli_epi32(v, 16));
}

// Block loop in groups of 8: group(b, d, m) for b = 0, 8, ... with those blocks' fp16 fields
// converted (m only when kMin), then one(b) for each remaining block.
template <int Stride, bool kMin, class Group, class One>
inline __attribute__((always_inline)) void blocks8(int64_t nb, const uint8_t* row, Group&& group, One&& one) {
  int64_t b = 0;
  for (; b + 8 <= nb; b += 8) {
    __m256 d, m = _mm256_setzero_ps();
    load_dm8<Stride>(row + b * Stride, &d, kMin ? &m : nullptr);
    group(b, d, m);
  }
  for (; b < nb; ++b) one(b);
}

// Codecs whose weight block is one activation block (q8, Q8_0, Q4_0, Q4_1, q4g32):
// dot = sum_b d_b qd_b isum_b + sum_b m_b qdsum_b. weights(blk) gives the block's 32 unsigned
// weight bytes, signs(blk, q) the signed activations they multiply. With kMin the block has m
// at byte 2; without, m_b = mfix * d_b (Q4_0's -8 offset; 0 for q8).
template <class P, int Stride, bool kMin, class W, class X>
inline __attribute__((always_inline)) float one_block_codec(const uint8_t* row, const GemvActs& a, int64_t k,
                                                            float mfix, W&& weights, X&& signs) {
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps(), off = _mm256_setzero_ps();
  float off1 = 0;
  blocks8<Stride, kMin>(
      (k + 31) / 32, row,
      [&](int64_t b, __m256 d, __m256 m) {
        alignas(32) float sc[8];
        _mm256_store_ps(sc, _mm256_mul_ps(d, _mm256_loadu_ps(a.qd + b)));
        off = _mm256_fmadd_ps(kMin ? m : d, _mm256_loadu_ps(a.qdsum + b), off);
#pragma GCC unroll 8
        for (int j = 0; j < 8; ++j) {
          const uint8_t* blk = row + (b + j) * Stride;
          __m256& acc = j & 1 ? acc1 : acc0;
          acc = scaled<P>(acc, weights(blk), signs(blk, load32(a.q + (b + j) * 32)), sc[j]);
        }
      },
      [&](int64_t b) {
        const uint8_t* blk = row + b * Stride;
        const float d = half(blk);
        acc0 = scaled<P>(acc0, weights(blk), signs(blk, load32(a.q + b * 32)), d * a.qd[b]);
        off1 += (kMin ? half(blk + 2) : d) * a.qdsum[b];
      });
  return hsum8(_mm256_add_ps(acc0, acc1)) + (kMin ? 1.0f : mfix) * (hsum8(off) + off1);
}

// q8 / Q8_0: signed weights; |w| * (x * sign(w)) keeps the left operand unsigned.
template <class P>
float i8_q8(const uint8_t* row, const GemvActs& a, int64_t k) {
  auto w = [](const uint8_t* blk) {
    const __m256i v = load32(blk + 2);
    return _mm256_sign_epi8(v, v);
  };
  auto x = [](const uint8_t* blk, __m256i q) { return _mm256_sign_epi8(q, load32(blk + 2)); };
  return one_block_codec<P, sizeof(BlockQ8_0), false>(row, a, k, 0.0f, w, x);
}

// Q4_0: x = d * (q - 8), the -8 applied through the activation block sums.
template <class P>
float i8_q4_0(const uint8_t* row, const GemvActs& a, int64_t k) {
  auto w = [](const uint8_t* blk) { return nibbles16(blk + 2); };
  auto x = [](const uint8_t*, __m256i q) { return q; };
  return one_block_codec<P, sizeof(BlockQ4_0), false>(row, a, k, -8.0f, w, x);
}

// Q4_1 / q4g32: x = d * q + m.
template <class P>
float i8_q4g32(const uint8_t* row, const GemvActs& a, int64_t k) {
  auto w = [](const uint8_t* blk) { return nibbles16(blk + 4); };
  auto x = [](const uint8_t*, __m256i q) { return q; };
  return one_block_codec<P, sizeof(BlockQ4_1), true>(row, a, k, 1.0f, w, x);
}

// q4g64 / q4g128: byte j holds elements j and j + G/2, so the low nibbles of 32 bytes are one
// activation block and their high nibbles the block G/64 further on.
template <class P, int G>
float i8_q4g(const uint8_t* row, const GemvActs& a, int64_t k) {
  constexpr int kStride = 4 + G / 2;
  const __m256i m15 = _mm256_set1_epi8(15);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  float off = 0;
  auto block = [&](int64_t b, float d, float m) {
    const uint8_t* blk = row + b * kStride;
    const int64_t a0 = b * (G / 32);
#pragma GCC unroll 2
    for (int c = 0; c < G / 64; ++c) {
      const __m256i v = load32(blk + 4 + 32 * c);
      const int64_t lo = a0 + c, hi = a0 + c + G / 64;
      acc0 = scaled<P>(acc0, _mm256_and_si256(v, m15), load32(a.q + lo * 32), d * a.qd[lo]);
      acc1 = scaled<P>(acc1, _mm256_and_si256(_mm256_srli_epi16(v, 4), m15), load32(a.q + hi * 32), d * a.qd[hi]);
      off += m * (a.qdsum[lo] + a.qdsum[hi]);
    }
  };
  blocks8<kStride, true>(
      (k + G - 1) / G, row,
      [&](int64_t b, __m256 d, __m256 m) {
        alignas(32) float dv[8], mv[8];
        _mm256_store_ps(dv, d);
        _mm256_store_ps(mv, m);
#pragma GCC unroll 8
        for (int j = 0; j < 8; ++j) block(b + j, dv[j], mv[j]);
      },
      [&](int64_t b) { block(b, half(row + b * kStride), half(row + b * kStride + 2)); });
  return hsum8(_mm256_add_ps(acc0, acc1)) + off;
}

// t158: codes c = t + 1 as unsigned bytes (3 read as 1 through a byte shuffle), so
// sum t * x = sum c * x - sum x.
template <class P>
float i8_t158(const uint8_t* row, const GemvActs& a, int64_t k) {
  constexpr int kStride = sizeof(BlockT158);
  const __m256i m3 = _mm256_set1_epi8(3);
  const __m256i fix = _mm256_setr_epi8(0, 1, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,  //
                                       0, 1, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  float off = 0;
  auto block = [&](int64_t b, float d) {
    const __m256i v = load32(row + b * kStride + 2);
    const int64_t a0 = b * 4;
#pragma GCC unroll 4
    for (int s = 0; s < 4; ++s) {
      const __m256i c = _mm256_shuffle_epi8(fix, _mm256_and_si256(_mm256_srli_epi16(v, 2 * s), m3));
      __m256& acc = s & 1 ? acc1 : acc0;
      acc = scaled<P>(acc, c, load32(a.q + (a0 + s) * 32), d * a.qd[a0 + s]);
    }
    off += d * (a.qdsum[a0] + a.qdsum[a0 + 1] + a.qdsum[a0 + 2] + a.qdsum[a0 + 3]);
  };
  blocks8<kStride, false>(
      (k + kT158Block - 1) / kT158Block, row,
      [&](int64_t b, __m256 d, __m256) {
        alignas(32) float dv[8];
        _mm256_store_ps(dv, d);
#pragma GCC unroll 8
        for (int j = 0; j < 8; ++j) block(b + j, dv[j]);
      },
      [&](int64_t b) { block(b, half(row + b * kStride)); });
  return hsum8(_mm256_add_ps(acc0, acc1)) - off;
}

// The int8 row of the table, indexed by DType's values (see gemv.cpp).
template <class P>
void fill_int8_kernels(GemvTable* t) {
  t->int8[3] = i8_q8<P>;         // Q8_0
  t->int8[4] = i8_q4_0<P>;       // Q4_0
  t->int8[5] = i8_q4g32<P>;      // Q4_1
  t->int8[8] = i8_q8<P>;         // q8
  t->int8[9] = i8_q4g32<P>;      // q4g32
  t->int8[10] = i8_q4g<P, 64>;   // q4g64
  t->int8[11] = i8_q4g<P, 128>;  // q4g128
  t->int8[14] = i8_t158<P>;      // t158
}

}  // namespace
}  // namespace trapetum::cpu
