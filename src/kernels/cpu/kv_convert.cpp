// KV row conversions: f16 with F16C intrinsics (vcvtph2ps / vcvtps2ph) on AVX2/AVX-512 and an
// exact bit-level vector conversion otherwise; q8 blocks sign-extended and scaled.
#include "kernels/cpu/kv_convert.h"

#include <algorithm>
#include <cmath>

#include "core/half.h"
#include "kernels/cpu/vec_math.h"
#include "kernels/ref/kv_rows.h"

#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace trapetum::cpu {
namespace {

// Exact fp16 -> f32 of N values without F16C: the exponent and mantissa bits shifted into
// float position and scaled by 2^112 give normal and subnormal halves alike; inf and NaN
// get the all-ones exponent back.
template <int N>
TRAPETUM_INLINE typename Vec<N>::F h2f_bits(const uint16_t* p) {
  using U = typename Vec<N>::U;
  typename Vec<N>::H h16;
  __builtin_memcpy(&h16, p, sizeof(h16));
  const U h = __builtin_convertvector(h16, U);
  const U em = (h & 0x7fff) << 13;
  typename Vec<N>::F f;
  __builtin_memcpy(&f, &em, sizeof(f));
  f = f * 0x1p112f;
  U bits;
  __builtin_memcpy(&bits, &f, sizeof(bits));
  const U special = em | 0x7f800000u;
  bits = (h & 0x7c00) == 0x7c00 ? special : bits;
  bits |= (h & 0x8000) << 16;
  __builtin_memcpy(&f, &bits, sizeof(f));
  return f;
}

void f16_to_f32_generic(const uint16_t* src, int64_t n, float* dst) {
  constexpr int N = kLanesGeneric;
  int64_t i = 0;
  for (; i + N <= n; i += N) vstore<N>(dst + i, h2f_bits<N>(src + i));
  for (; i < n; ++i) dst[i] = fp16_to_float(src[i]);
}

const KvQ8Block* q8_row(const void* src, int r, int hd) {
  return reinterpret_cast<const KvQ8Block*>(static_cast<const char*>(src) + r * kv_row_bytes(KvType::kQ8, hd));
}

// Values [i, n) of a q8 block, lane by lane.
TRAPETUM_INLINE void q8_tail(const KvQ8Block& blk, int i, int n, float* out) {
  for (; i < n; ++i) out[i] = float(blk.q[i]) * blk.d;
}

void q8_rows_generic(const void* src, int n_rows, int hd, float* dst) {
  for (int r = 0; r < n_rows; ++r) {
    const KvQ8Block* blocks = q8_row(src, r, hd);
    for (int b = 0, base = 0; base < hd; ++b, base += kKvQ8BlockValues)
      q8_tail(blocks[b], 0, std::min(kKvQ8BlockValues, hd - base), dst + int64_t(r) * hd + base);
  }
}

#if defined(__x86_64__)
// The zero-masked forms with every lane kept: GCC 12's unmasked ones start from an
// "undefined" vector that -Wmaybe-uninitialized reports.
constexpr __mmask16 kAll16 = 0xffff;

TRAPETUM_TARGET_AVX512 void f16_to_f32_avx512(const uint16_t* src, int64_t n, float* dst) {
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    _mm512_storeu_ps(dst + i,
                     _mm512_maskz_cvtph_ps(kAll16, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + i))));
  for (; i < n; ++i) dst[i] = _cvtsh_ss(src[i]);
}
TRAPETUM_TARGET_AVX2 void f16_to_f32_avx2(const uint16_t* src, int64_t n, float* dst) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
  for (; i < n; ++i) dst[i] = _cvtsh_ss(src[i]);
}
TRAPETUM_TARGET_AVX512 void f32_to_f16_avx512(const float* src, int n, uint16_t* dst) {
  int i = 0;
  for (; i + 16 <= n; i += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i),
                        _mm512_maskz_cvtps_ph(kAll16, _mm512_loadu_ps(src + i),
                                              _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  for (; i < n; ++i) dst[i] = float_to_fp16(src[i]);
}
TRAPETUM_TARGET_AVX2 void f32_to_f16_avx2(const float* src, int n, uint16_t* dst) {
  int i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + i),
                     _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  for (; i < n; ++i) dst[i] = float_to_fp16(src[i]);
}

// q8 with intrinsics (GCC 12 turns a vector-extension int8 -> float conversion into scalar
// code): sign-extend 16 or 8 int8 to int32, convert, scale.
TRAPETUM_TARGET_AVX512 void q8_rows_avx512(const void* src, int n_rows, int hd, float* dst) {
  for (int r = 0; r < n_rows; ++r) {
    const KvQ8Block* blocks = q8_row(src, r, hd);
    for (int b = 0, base = 0; base < hd; ++b, base += kKvQ8BlockValues) {
      const int n = std::min(kKvQ8BlockValues, hd - base);
      float* out = dst + int64_t(r) * hd + base;
      const __m512 d = _mm512_set1_ps(blocks[b].d);
      int i = 0;
      for (; i + 16 <= n; i += 16) {
        const __m512i v =
            _mm512_maskz_cvtepi8_epi32(kAll16, _mm_loadu_si128(reinterpret_cast<const __m128i*>(blocks[b].q + i)));
        _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_maskz_cvtepi32_ps(kAll16, v), d));
      }
      q8_tail(blocks[b], i, n, out);
    }
  }
}
TRAPETUM_TARGET_AVX2 void q8_rows_avx2(const void* src, int n_rows, int hd, float* dst) {
  for (int r = 0; r < n_rows; ++r) {
    const KvQ8Block* blocks = q8_row(src, r, hd);
    for (int b = 0, base = 0; base < hd; ++b, base += kKvQ8BlockValues) {
      const int n = std::min(kKvQ8BlockValues, hd - base);
      float* out = dst + int64_t(r) * hd + base;
      const __m256 d = _mm256_set1_ps(blocks[b].d);
      int i = 0;
      for (; i + 8 <= n; i += 8) {
        const __m256i v = _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(blocks[b].q + i)));
        _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_cvtepi32_ps(v), d));
      }
      q8_tail(blocks[b], i, n, out);
    }
  }
}
#endif

void f16_to_f32(Isa isa, const uint16_t* src, int64_t n, float* dst) {
#if defined(__x86_64__)
  if (isa == Isa::kAvx512) return f16_to_f32_avx512(src, n, dst);
  if (isa == Isa::kAvx2) return f16_to_f32_avx2(src, n, dst);
#endif
  f16_to_f32_generic(src, n, dst);
}

void f32_to_f16(Isa isa, const float* src, int n, uint16_t* dst) {
#if defined(__x86_64__)
  if (isa == Isa::kAvx512) return f32_to_f16_avx512(src, n, dst);
  if (isa == Isa::kAvx2) return f32_to_f16_avx2(src, n, dst);
#endif
  for (int i = 0; i < n; ++i) dst[i] = float_to_fp16(src[i]);
}

void q8_rows(Isa isa, const void* src, int n_rows, int hd, float* dst) {
#if defined(__x86_64__)
  if (isa == Isa::kAvx512) return q8_rows_avx512(src, n_rows, hd, dst);
  if (isa == Isa::kAvx2) return q8_rows_avx2(src, n_rows, hd, dst);
#endif
  q8_rows_generic(src, n_rows, hd, dst);
}

}  // namespace

void kv_encode_row(Isa isa, KvType type, const float* x, int head_dim, void* dst) {
  switch (type) {
    case KvType::kF32: std::memcpy(dst, x, size_t(head_dim) * 4); return;
    case KvType::kF16: f32_to_f16(isa, x, head_dim, static_cast<uint16_t*>(dst)); return;
    // Scalar: a row is encoded once per token and layer, far off the hot path; the
    // reference's own code, so the reference's bytes.
    case KvType::kQ8: ref::kv_encode_row(KvType::kQ8, x, head_dim, dst); return;
  }
}

void kv_decode_rows(Isa isa, KvType type, const void* src, int n_rows, int head_dim, float* dst) {
  switch (type) {
    case KvType::kF32: std::memcpy(dst, src, size_t(n_rows) * size_t(head_dim) * 4); return;
    // f16 rows are contiguous values: one conversion over all of them.
    case KvType::kF16: f16_to_f32(isa, static_cast<const uint16_t*>(src), int64_t(n_rows) * head_dim, dst); return;
    case KvType::kQ8: q8_rows(isa, src, n_rows, head_dim, dst); return;
  }
}

}  // namespace trapetum::cpu
