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

// The row codebook as gemv_generic.cpp's cb4_int8_codebook rounds it, stored as c8 + 128 in
// every 16-byte lane (a vpshufb table); returns s / 127.
__m512i cb4_table(const uint8_t* row, float* unit) {
  const __m512 c = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row)));
  const float s = _mm512_reduce_max_ps(_mm512_abs_ps(c));
  const float inv = s > 0 ? 127.0f / s : 0.0f;
  // cvtps rounds to nearest even, as nearbyint in the default rounding mode.
  const __m128i c8 = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(c, _mm512_set1_ps(inv))));
  *unit = s / 127.0f;
  return _mm512_broadcast_i32x4(_mm_xor_si128(c8, _mm_set1_epi8(char(0x80))));
}

// cb4, int8: two blocks per step; the looked-up bytes are c8 + 128, and each dot product
// starts from -128 * sum(q) (q4neg), so the int32 sums are exactly sum c8 * q.
float i8_cb4(const uint8_t* row, const GemvActs& a, int64_t k) {
  float unit;
  const __m512i table = cb4_table(row, &unit);
  const uint8_t* q = row + kCb4HeaderBytes;
  const int64_t nb = (k + kCb4Block - 1) / kCb4Block;
  const __m256i m15 = _mm256_set1_epi8(15);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q + b * 16));
    const __m256i lo = _mm256_and_si256(v, m15), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m15);
    __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);  // A0-15 B0-15 A16-31 B16-31
    w = _mm512_shuffle_epi8(table, _mm512_shuffle_i64x2(w, w, _MM_SHUFFLE(3, 1, 2, 0)));
    const __m512i d = _mm512_dpbusd_epi32(_mm512_loadu_si512(a.q4neg + b * 8), w, _mm512_loadu_si512(a.q + b * 32));
    __m512& acc = (b / 2) & 1 ? acc1 : acc0;
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_loadu_ps(a.qd8 + b * 8), acc);
  }
  float r = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  if (b < nb) {
    const __m256i w = _mm256_shuffle_epi8(_mm512_castsi512_si256(table), nibbles16(q + b * 16));
    const __m256i d = _mm256_dpbusd_epi32(load32(a.q4neg + b * 8), w, load32(a.q + b * 32));
    r += hsum8(_mm256_mul_ps(_mm256_cvtepi32_ps(d), _mm256_loadu_ps(a.qd8 + b * 8)));
  }
  return unit * r;
}

// cb4s, int8: one 64-element group per step; byte j holds elements j and j + 32, so the low
// nibbles of the 32 bytes are elements 0..31 in order.
float i8_cb4s(const uint8_t* row, const GemvActs& a, int64_t k) {
  float unit;
  const __m512i table = cb4_table(row, &unit);
  const uint8_t* blk = row + kCb4HeaderBytes;
  const int64_t nb = (k + kCb4sBlock - 1) / kCb4sBlock;
  const __m256i m15 = _mm256_set1_epi8(15);
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b, blk += sizeof(BlockCb4s)) {
    const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + 1));
    const __m256i lo = _mm256_and_si256(v, m15), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m15);
    const __m512i w = _mm512_shuffle_epi8(table, _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1));
    const __m512i d = _mm512_dpbusd_epi32(_mm512_loadu_si512(a.q4neg + b * 16), w, _mm512_loadu_si512(a.q + b * 64));
    const float g = cb4s_group_scale(blk[0]);
    __m512& acc = b & 1 ? acc1 : acc0;
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_mul_ps(_mm512_loadu_ps(a.qd8 + b * 16), _mm512_set1_ps(g)), acc);
  }
  return unit * _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

}  // namespace

void fill_gemv_avx512(GemvTable* t) {
  fill_float_kernels<Avx512>(t);
  fill_int8_kernels<Avx512>(t);
  t->int8[12] = i8_cb4;   // cb4
  t->int8[13] = i8_cb4s;  // cb4s
}

}  // namespace trapetum::cpu
#endif
