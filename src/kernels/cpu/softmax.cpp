// CPU softmax: vector max, exp(x - max) a register at a time (std::exp on the tail), a float
// sum over lanes (its rounding is ~1e-7 relative for the row lengths attention sees).
#include "kernels/cpu/softmax.h"

#include <cmath>

#include "core/check.h"
#include "kernels/cpu/vec_math.h"

namespace trapetum::cpu {
namespace {

template <int N>
TRAPETUM_INLINE void body(float* x, int64_t n) {
  using F = typename Vec<N>::F;
  const int64_t nv = n / N * N;
  float mx = x[0];
  if (nv) {
    F m = vload<N>(x);
    for (int64_t i = N; i < nv; i += N) m = vmax<N>(m, vload<N>(x + i));
    mx = vmax_lanes<N>(m);
  }
  for (int64_t i = nv; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  F acc = {};
  for (int64_t i = 0; i < nv; i += N) {
    const F e = vexp<N>(vload<N>(x + i) - mx);
    vstore<N>(x + i, e);
    acc += e;
  }
  float sum = vsum<N>(acc);
  for (int64_t i = nv; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < nv; i += N) vstore<N>(x + i, vload<N>(x + i) * inv);
  for (int64_t i = nv; i < n; ++i) x[i] *= inv;
}

TRAPETUM_TARGET_AVX512 void body_avx512(float* x, int64_t n) { body<kLanesAvx512>(x, n); }
TRAPETUM_TARGET_AVX2 void body_avx2(float* x, int64_t n) { body<kLanesAvx2>(x, n); }

}  // namespace

void softmax(Isa isa, float* x, int64_t n) {
  CHECK(n >= 1);
  switch (isa) {
    case Isa::kAvx512: body_avx512(x, n); break;
    case Isa::kAvx2: body_avx2(x, n); break;
    default: body<kLanesGeneric>(x, n); break;
  }
}

}  // namespace trapetum::cpu
