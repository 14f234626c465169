// 16-lane float vectors written with GCC/Clang vector extensions (no intrinsics). Code using
// them is compiled once per ISA through target attributes, so the same source becomes
// AVX-512, AVX2 or SSE instructions.
#pragma once

#include <cstdint>
#include <cstring>

namespace trapetum::cpu {

typedef float F16x __attribute__((vector_size(64)));  // 16 floats

#define TRAPETUM_INLINE inline __attribute__((always_inline))

TRAPETUM_INLINE F16x load16(const float* p) {
  F16x v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

TRAPETUM_INLINE float hsum16(F16x v) {
  // Pairwise so the rounding does not depend on the lane order of a sequential sum.
  float a[16];
  std::memcpy(a, &v, sizeof(a));
  for (int w = 8; w >= 1; w /= 2)
    for (int i = 0; i < w; ++i) a[i] += a[i + w];
  return a[0];
}

}  // namespace trapetum::cpu
