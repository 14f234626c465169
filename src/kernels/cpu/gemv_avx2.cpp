// AVX2 + FMA + F16C GEMV kernels: float bodies with a two-permute codebook lookup, int8
// bodies with maddubs. Built with those ISA flags; called only after cpuid says so.
#if defined(__x86_64__)
#include <immintrin.h>

#include "kernels/cpu/gemv_float_body.h"
#include "kernels/cpu/gemv_int8_x86_body.h"

namespace trapetum::cpu {
namespace {

// Two 8-lane halves per 16-lane vector; the widening conversions spelled out because GCC 12
// splits the generic ones for AVX2 into per-byte extracts.
TRAPETUM_BODY F16x join(__m256 lo, __m256 hi) {
  F16x r;
  std::memcpy(&r, &lo, 32);
  std::memcpy(reinterpret_cast<char*>(&r) + 32, &hi, 32);
  return r;
}

struct Avx2 : ConvertVector {
  TRAPETUM_BODY static I16x u8i(U8x16 v) {
    const __m128i b = __m128i(v);
    const __m256i r[2] = {_mm256_cvtepu8_epi32(b), _mm256_cvtepu8_epi32(_mm_srli_si128(b, 8))};
    I16x o;
    std::memcpy(&o, r, 64);
    return o;
  }
  TRAPETUM_BODY static F16x u8f(U8x16 v) {
    const __m128i b = __m128i(v);
    return join(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b)), _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(b, 8))));
  }
  TRAPETUM_BODY static F16x s8f(S8x16 v) {
    const __m128i b = __m128i(v);
    return join(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(b)), _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(b, 8))));
  }
  TRAPETUM_BODY static F16x u16f(U16x16 v) {
    __m128i h[2];
    std::memcpy(h, &v, 32);
    return join(_mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(h[0])), _mm256_cvtepi32_ps(_mm256_cvtepu16_epi32(h[1])));
  }
  TRAPETUM_BODY static float h2f(uint16_t h) { return _cvtsh_ss(h); }
  TRAPETUM_BODY static F16x h2f16(const uint16_t* p) {
    return join(_mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))),
                _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 8))));
  }
  // Each 8-lane half looks up both table halves and keeps the one bit 3 of the index picks.
  TRAPETUM_BODY static F16x lookup(F16x table, I16x idx) {
    __m256 t[2];
    __m256i i[2];
    std::memcpy(t, &table, 64);
    std::memcpy(i, &idx, 64);
    __m256 r[2];
    for (int h = 0; h < 2; ++h)
      r[h] = _mm256_blendv_ps(_mm256_permutevar8x32_ps(t[0], i[h]), _mm256_permutevar8x32_ps(t[1], i[h]),
                              _mm256_castsi256_ps(_mm256_slli_epi32(i[h], 28)));
    F16x out;
    std::memcpy(&out, r, 64);
    return out;
  }
  TRAPETUM_BODY static __m256i dot(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
  }
};

}  // namespace

void fill_gemv_avx2(GemvTable* t) {
  fill_float_kernels<Avx2>(t);
  fill_int8_kernels<Avx2>(t);
  t->int8[12] = t->int8[13] = nullptr;  // cb4/cb4s: no AVX2 integer kernel; the float one runs
}

}  // namespace trapetum::cpu
#endif
