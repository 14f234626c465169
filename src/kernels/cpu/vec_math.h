// Native-width float vectors for the per-ISA kernel bodies (GCC/Clang vector extensions, no
// intrinsics): 16 lanes on AVX-512, 8 on AVX2, 4 elsewhere (SSE2, NEON); the target
// attributes of the AVX copies; loads, sums, and exp within ~1 ulp of the rounded value.
// Bodies are templates on the lane count, so no vector wider than a register ever goes
// through memory (a 64-byte vector on AVX2 does, and store-forwarding stalls make it slow).
#pragma once

#include <cstdint>
#include <cstring>

namespace trapetum::cpu {

#ifndef TRAPETUM_INLINE
#define TRAPETUM_INLINE inline __attribute__((always_inline))
#endif

// Target attributes of the per-ISA copies of a body. Off x86 they are empty: only the generic
// copy is ever dispatched there.
#if defined(__x86_64__)
#define TRAPETUM_TARGET_AVX512 __attribute__((target("avx512f,avx512vl,avx512bw,fma,f16c")))
#define TRAPETUM_TARGET_AVX2 __attribute__((target("avx2,fma,f16c")))
#else
#define TRAPETUM_TARGET_AVX512
#define TRAPETUM_TARGET_AVX2
#endif

inline constexpr int kLanesAvx512 = 16, kLanesAvx2 = 8, kLanesGeneric = 4;

// The vector types of an N-lane body.
template <int N>
struct Vec {
  typedef float F __attribute__((vector_size(4 * N)));
  typedef int32_t I __attribute__((vector_size(4 * N)));
  typedef uint32_t U __attribute__((vector_size(4 * N)));
  typedef uint16_t H __attribute__((vector_size(2 * N)));
  typedef int8_t B __attribute__((vector_size(N)));
  typedef double D __attribute__((vector_size(4 * N)));  // N / 2 doubles: the same register
};

template <int N>
TRAPETUM_INLINE typename Vec<N>::F vload(const float* p) {
  typename Vec<N>::F v;
  __builtin_memcpy(&v, p, sizeof(v));
  return v;
}

template <int N>
TRAPETUM_INLINE void vstore(float* p, typename Vec<N>::F v) {
  __builtin_memcpy(p, &v, sizeof(v));
}

template <int N>
TRAPETUM_INLINE typename Vec<N>::F vsplat(float x) {
  typename Vec<N>::F v = {};
  return v + x;
}

// Pairwise over lanes, so the rounding does not depend on a sequential order.
template <int N>
TRAPETUM_INLINE float vsum(typename Vec<N>::F v) {
  if constexpr (N == 2) {
    return v[0] + v[1];
  } else {
    // (A vector_size that depends on N must be declared at namespace scope, as in Vec.)
    typename Vec<N / 2>::F lo, hi;
    __builtin_memcpy(&lo, &v, sizeof(lo));
    __builtin_memcpy(&hi, reinterpret_cast<const char*>(&v) + sizeof(lo), sizeof(hi));
    return vsum<N / 2>(lo + hi);
  }
}

template <int N>
TRAPETUM_INLINE typename Vec<N>::F vmax(typename Vec<N>::F a, typename Vec<N>::F b) {
  return a > b ? a : b;
}

template <int N>
TRAPETUM_INLINE float vmax_lanes(typename Vec<N>::F v) {
  float m = v[0];
  for (int i = 1; i < N; ++i) m = v[i] > m ? v[i] : m;
  return m;
}

// exp(x) per lane, NaN in NaN out, 0 below -104 and inf above 88.73 as std::exp. exp(x) =
// 2^n * exp(r) with n = round(x / ln2) and r = x - n ln2 in [-ln2/2, ln2/2]; ln2 is split in
// two so n * 0.693359375 is exact; exp(r) is Cephes' degree-6 minimax polynomial (rel. error
// ~1e-7), and 2^n is applied as two factors so results down in the subnormal range round once.
template <int N>
TRAPETUM_INLINE typename Vec<N>::F vexp(typename Vec<N>::F x) {
  using F = typename Vec<N>::F;
  using I = typename Vec<N>::I;
  const F lo = vsplat<N>(-104.0f), hi = vsplat<N>(89.0f), zero = vsplat<N>(0.0f);
  F xc = x < lo ? lo : x;
  xc = xc > hi ? hi : xc;
  xc = xc == xc ? xc : zero;  // NaN -> 0 here (the int conversion below needs a number)
  // Adding 1.5 * 2^23 rounds to an integer (to nearest even) for |v| < 2^22.
  const F magic = vsplat<N>(12582912.0f);
  const F n = (xc * 1.44269504088896341f + magic) - magic;
  F r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  F p = vsplat<N>(1.9875691500e-4f);
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * (r * r) + r + 1.0f;
  const I ni = __builtin_convertvector(n, I);  // in [-150, 129]
  const I n1 = ni >> 1, n2 = ni - n1;
  const I b1 = (n1 + 127) << 23, b2 = (n2 + 127) << 23;
  F s1, s2;
  __builtin_memcpy(&s1, &b1, sizeof(s1));
  __builtin_memcpy(&s2, &b2, sizeof(s2));
  const F y = p * s1 * s2;
  return x == x ? y : x;
}

}  // namespace trapetum::cpu
