// CPU SwiGLU: the reference's formula with the vectorized exp; the sigmoid's division stays a
// true division (not a reciprocal estimate), so the result is within a few ulp of it.
#include "kernels/cpu/activation.h"

#include <cmath>

#include "kernels/cpu/vec_math.h"

namespace trapetum::cpu {
namespace {

template <int N>
TRAPETUM_INLINE void body(const float* gate, const float* up, float* out, int64_t n) {
  int64_t i = 0;
  for (; i + N <= n; i += N) {
    const typename Vec<N>::F g = vload<N>(gate + i);
    vstore<N>(out + i, g / (1.0f + vexp<N>(-g)) * vload<N>(up + i));
  }
  for (; i < n; ++i) out[i] = gate[i] / (1.0f + std::exp(-gate[i])) * up[i];
}

TRAPETUM_TARGET_AVX512 void body_avx512(const float* gate, const float* up, float* out, int64_t n) {
  body<kLanesAvx512>(gate, up, out, n);
}
TRAPETUM_TARGET_AVX2 void body_avx2(const float* gate, const float* up, float* out, int64_t n) {
  body<kLanesAvx2>(gate, up, out, n);
}

}  // namespace

void swiglu(Isa isa, const float* gate, const float* up, float* out, int64_t n) {
  switch (isa) {
    case Isa::kAvx512: body_avx512(gate, up, out, n); break;
    case Isa::kAvx2: body_avx2(gate, up, out, n); break;
    default: body<kLanesGeneric>(gate, up, out, n); break;
  }
}

}  // namespace trapetum::cpu
