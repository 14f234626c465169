// AVX-512 GEMV kernels (F, BW, VL, VNNI, F16C): float bodies with vpermps codebook lookups,
// int8 bodies with vpdpbusd. Built with those ISA flags; called only after cpuid says so.
#if defined(__x86_64__)
#include <immintrin.h>

#include "kernels/cpu/gemv_float_body.h"
#include "kernels/cpu/gemv_int8_x86_body.h"

namespace trapetum::cpu {
namespace {

struct Avx512 : ConvertVector {
  TRAPETUM_BODY static float h2f(uint16_t h) { return _cvtsh_ss(h); }
  TRAPETUM_BODY static F16x h2f16(const uint16_t* p) {
    return F16x(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))));
  }
  TRAPETUM_BODY static F16x lookup(F16x table, I16x idx) { return F16x(_mm512_permutexvar_ps(__m512i(idx), __m512(table))); }
  TRAPETUM_BODY static __m256i dot(__m256i u, __m256i s) { return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s); }
};

}  // namespace

void fill_gemv_avx512(GemvTable* t) {
  fill_float_kernels<Avx512>(t);
  fill_int8_kernels<Avx512>(t);
}

}  // namespace trapetum::cpu
#endif
