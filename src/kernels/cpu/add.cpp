// CPU additions, a register at a time with a scalar tail.
#include "kernels/cpu/add.h"

#include "kernels/cpu/vec_math.h"

namespace trapetum::cpu {
namespace {

template <int N>
TRAPETUM_INLINE void body(float* x, const float* y, int64_t n) {
  int64_t i = 0;
  for (; i + N <= n; i += N) vstore<N>(x + i, vload<N>(x + i) + vload<N>(y + i));
  for (; i < n; ++i) x[i] += y[i];
}

TRAPETUM_TARGET_AVX512 void body_avx512(float* x, const float* y, int64_t n) { body<kLanesAvx512>(x, y, n); }
TRAPETUM_TARGET_AVX2 void body_avx2(float* x, const float* y, int64_t n) { body<kLanesAvx2>(x, y, n); }

}  // namespace

void add(Isa isa, float* x, const float* y, int64_t n) {
  switch (isa) {
    case Isa::kAvx512: body_avx512(x, y, n); break;
    case Isa::kAvx2: body_avx2(x, y, n); break;
    default: body<kLanesGeneric>(x, y, n); break;
  }
}

void add_bias(Isa isa, float* y, const float* bias, int64_t n, int64_t len) {
  for (int64_t i = 0; i < n; ++i) add(isa, y + i * len, bias, len);
}

}  // namespace trapetum::cpu
