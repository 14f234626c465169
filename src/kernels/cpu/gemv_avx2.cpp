// AVX2 + FMA + F16C GEMV kernels: float bodies with a two-permute codebook lookup, int8
// bodies with maddubs. Built with those ISA flags; called only after cpuid says so.
#if defined(__x86_64__)
#include <immintrin.h>

#include "kernels/cpu/gemv_float_body.h"
#include "kernels/cpu/gemv_int8_x86_body.h"

namespace trapetum::cpu {
namespace {

struct Avx2 : ConvertVector {
  static float h2f(uint16_t h) { return _cvtsh_ss(h); }
  static F16x h2f16(const uint16_t* p) {
    const __m256 lo = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
    const __m256 hi = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 8)));
    F16x r;
    std::memcpy(&r, &lo, 32);
    std::memcpy(reinterpret_cast<char*>(&r) + 32, &hi, 32);
    return r;
  }
  // Each 8-lane half looks up both table halves and keeps the one bit 3 of the index picks.
  static F16x lookup(F16x table, I16x idx) {
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
  static __m256i dot(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
  }
};

}  // namespace

void fill_gemv_avx2(GemvTable* t) {
  fill_float_kernels<Avx2>(t);
  fill_int8_kernels<Avx2>(t);
}

}  // namespace trapetum::cpu
#endif
