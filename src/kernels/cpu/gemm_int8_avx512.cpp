// The int8 prefill micro-kernel: 16 weight rows x up to 8 tokens held in registers, one
// vpdpbusd per 4 bytes of a 32-element block, scaled into float per block.
#if defined(__x86_64__)
#include <immintrin.h>

#include <cstring>

#include "kernels/cpu/gemm_int8.h"

namespace trapetum::cpu {
namespace {

template <int T, bool kMin>
void tokens(const PackedTile& p, const GemvActs* a, float* y, int64_t ldy, int64_t rows) {
  __m512 acc[T];
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < p.nblk; ++b) {
    __m512i dot[T];
    for (int t = 0; t < T; ++t) dot[t] = _mm512_setzero_si512();
    const uint8_t* u = p.u + b * 512;
#pragma GCC unroll 8
    for (int s = 0; s < 8; ++s) {
      const __m512i wv = _mm512_load_si512(u + s * 64);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        int32_t x4;
        std::memcpy(&x4, a[t].q + b * 32 + s * 4, 4);
        dot[t] = _mm512_dpbusd_epi32(dot[t], wv, _mm512_set1_epi32(x4));
      }
    }
    const __m512 d = _mm512_load_ps(p.d + b * 16);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      if constexpr (!kMin) dot[t] = _mm512_sub_epi32(dot[t], _mm512_set1_epi32(p.zero * a[t].qsum[b]));
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot[t]), _mm512_mul_ps(d, _mm512_set1_ps(a[t].qd[b])), acc[t]);
      if constexpr (kMin) acc[t] = _mm512_fmadd_ps(_mm512_load_ps(p.m + b * 16), _mm512_set1_ps(a[t].qdsum[b]), acc[t]);
    }
  }
  const __mmask16 keep = __mmask16((1u << rows) - 1);
  for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(y + t * ldy, keep, acc[t]);
}

template <bool kMin>
void all_tokens(const PackedTile& p, const GemvInput& in, int m, float* y, int64_t ldy, int64_t rows) {
  GemvActs a[8];
  int t0 = 0;
  for (; t0 + 8 <= m; t0 += 8) {
    for (int t = 0; t < 8; ++t) a[t] = in.token(t0 + t);
    tokens<8, kMin>(p, a, y + t0 * ldy, ldy, rows);
  }
  const int left = m - t0;
  for (int t = 0; t < left; ++t) a[t] = in.token(t0 + t);
  switch (left) {
    case 7: tokens<7, kMin>(p, a, y + t0 * ldy, ldy, rows); break;
    case 6: tokens<6, kMin>(p, a, y + t0 * ldy, ldy, rows); break;
    case 5: tokens<5, kMin>(p, a, y + t0 * ldy, ldy, rows); break;
    case 4: tokens<4, kMin>(p, a, y + t0 * ldy, ldy, rows); break;
    case 3: tokens<3, kMin>(p, a, y + t0 * ldy, ldy, rows); break;
    case 2: tokens<2, kMin>(p, a, y + t0 * ldy, ldy, rows); break;
    case 1: tokens<1, kMin>(p, a, y + t0 * ldy, ldy, rows); break;
    default: break;
  }
}

}  // namespace

void gemm_int8_avx512(const PackedTile& p, const GemvInput& in, int m, float* y, int64_t ldy, int64_t rows) {
  if (p.has_min) all_tokens<true>(p, in, m, y, ldy, rows);
  else all_tokens<false>(p, in, m, y, ldy, rows);
}

}  // namespace trapetum::cpu
#endif
