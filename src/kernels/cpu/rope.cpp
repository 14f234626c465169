// CPU RoPE. kHalf rotates (i, i + d/2): two contiguous halves. kInterleaved rotates
// (2i, 2i + 1): a pair swap within the vector and a sign-folded sin table, so
// x' = x * cos + swap(x) * (-sin, +sin) computes the reference's x0 c - x1 s, x1 c + x0 s.
#include "kernels/cpu/rope.h"

#include <cmath>
#include <utility>

#include "core/check.h"
#include "kernels/cpu/vec_math.h"

namespace trapetum::cpu {
namespace {

// Lanes (1, 0, 3, 2, ...).
template <int N, size_t... I>
TRAPETUM_INLINE typename Vec<N>::F swap_pairs(typename Vec<N>::F v, std::index_sequence<I...>) {
  return __builtin_shufflevector(v, v, (I ^ 1)...);
}

// cs (2 * hd): for kHalf cos (half) then sin (half); for kInterleaved cos and signed sin per
// element: c[2i] = c[2i+1] = cos, s[2i] = -sin, s[2i+1] = sin.
void table(int pos, const float* inv_freq, int hd, RopeLayout layout, float* cs) {
  const int half = hd / 2;
  for (int i = 0; i < half; ++i) {
    // The angle is formed in float32, as HF does (and as ref::rope does).
    const float angle = float(pos) * inv_freq[i];
    const float c = float(std::cos(double(angle))), s = float(std::sin(double(angle)));
    if (layout == RopeLayout::kHalf) {
      cs[i] = c;
      cs[half + i] = s;
    } else {
      cs[2 * i] = cs[2 * i + 1] = c;
      cs[hd + 2 * i] = -s;
      cs[hd + 2 * i + 1] = s;
    }
  }
}

template <int N>
TRAPETUM_INLINE void body(float* x, int n_heads, int hd, const float* cs, RopeLayout layout) {
  using F = typename Vec<N>::F;
  const int half = hd / 2;
  for (int h = 0; h < n_heads; ++h) {
    float* v = x + int64_t(h) * hd;
    if (layout == RopeLayout::kHalf) {
      const float *c = cs, *s = cs + half;
      int i = 0;
      for (; i + N <= half; i += N) {
        const F x0 = vload<N>(v + i), x1 = vload<N>(v + half + i), cv = vload<N>(c + i), sv = vload<N>(s + i);
        vstore<N>(v + i, x0 * cv - x1 * sv);
        vstore<N>(v + half + i, x1 * cv + x0 * sv);
      }
      for (; i < half; ++i) {
        const float x0 = v[i], x1 = v[half + i];
        v[i] = x0 * c[i] - x1 * s[i];
        v[half + i] = x1 * c[i] + x0 * s[i];
      }
    } else {
      const float *c = cs, *s = cs + hd;
      int j = 0;
      for (; j + N <= hd; j += N) {
        const F xv = vload<N>(v + j);
        vstore<N>(v + j, xv * vload<N>(c + j) + swap_pairs<N>(xv, std::make_index_sequence<N>{}) * vload<N>(s + j));
      }
      for (; j < hd; j += 2) {
        const float x0 = v[j], x1 = v[j + 1];
        v[j] = x0 * c[j] + x1 * s[j];
        v[j + 1] = x1 * c[j + 1] + x0 * s[j + 1];
      }
    }
  }
}

TRAPETUM_TARGET_AVX512 void body_avx512(float* x, int n_heads, int hd, const float* cs, RopeLayout layout) {
  body<kLanesAvx512>(x, n_heads, hd, cs, layout);
}
TRAPETUM_TARGET_AVX2 void body_avx2(float* x, int n_heads, int hd, const float* cs, RopeLayout layout) {
  body<kLanesAvx2>(x, n_heads, hd, cs, layout);
}

}  // namespace

void rope(Isa isa, float* x, int n_heads, int head_dim, int pos, const float* inv_freq, RopeLayout layout,
          float* scratch) {
  CHECK(head_dim % 2 == 0);
  table(pos, inv_freq, head_dim, layout, scratch);
  switch (isa) {
    case Isa::kAvx512: body_avx512(x, n_heads, head_dim, scratch, layout); break;
    case Isa::kAvx2: body_avx2(x, n_heads, head_dim, scratch, layout); break;
    default: body<kLanesGeneric>(x, n_heads, head_dim, scratch, layout); break;
  }
}

}  // namespace trapetum::cpu
