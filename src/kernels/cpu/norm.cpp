// CPU RMSNorm: the sum of squares accumulates in double lanes (as the reference does in
// double, so the scale matches it to the last bit almost always), then one vector scaling pass.
#include "kernels/cpu/norm.h"

#include <cmath>

#include "kernels/cpu/vec_math.h"

namespace trapetum::cpu {
namespace {

template <int N>
TRAPETUM_INLINE void body(const float* x, const float* w, float* y, int64_t n, float eps) {
  // N / 2 doubles fill the register N floats do.
  using D = typename Vec<N>::D;
  const int64_t nh = n / (N / 2) * (N / 2);
  D acc = {};
  for (int64_t i = 0; i < nh; i += N / 2) {
    typename Vec<N / 2>::F h;
    __builtin_memcpy(&h, x + i, sizeof(h));
    const D v = __builtin_convertvector(h, D);
    acc += v * v;
  }
  double ss = 0;
  for (int i = 0; i < N / 2; ++i) ss += acc[i];
  for (int64_t i = nh; i < n; ++i) ss += double(x[i]) * double(x[i]);
  const float inv = float(1.0 / std::sqrt(ss / double(n) + double(eps)));
  const int64_t nv = n / N * N;
  for (int64_t i = 0; i < nv; i += N) vstore<N>(y + i, vload<N>(w + i) * (vload<N>(x + i) * inv));
  for (int64_t i = nv; i < n; ++i) y[i] = w[i] * (x[i] * inv);
}

TRAPETUM_TARGET_AVX512 void body_avx512(const float* x, const float* w, float* y, int64_t n, float eps) {
  body<kLanesAvx512>(x, w, y, n, eps);
}
TRAPETUM_TARGET_AVX2 void body_avx2(const float* x, const float* w, float* y, int64_t n, float eps) {
  body<kLanesAvx2>(x, w, y, n, eps);
}

}  // namespace

void rmsnorm(Isa isa, const float* x, const float* weight, float* y, int64_t dim, float eps) {
  switch (isa) {
    case Isa::kAvx512: body_avx512(x, weight, y, dim, eps); break;
    case Isa::kAvx2: body_avx2(x, weight, y, dim, eps); break;
    default: body<kLanesGeneric>(x, weight, y, dim, eps); break;
  }
}

}  // namespace trapetum::cpu
