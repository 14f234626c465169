// CPU matmul tile kernel: dequantize rows once, then register-blocked 4x4 dot products.
#include "kernels/cpu/matmul.h"

#include "kernels/cpu/simd_lanes.h"

namespace trapetum::cpu {
namespace {

// R weight rows x M tokens; 16-lane partial sums keep the lanes independent.
template <int R, int M>
TRAPETUM_INLINE void micro(const float* w, int64_t ldw, const float* x, int64_t k, float* y, int64_t ldy) {
  F16x acc[R][M] = {};
  int64_t j = 0;
  for (; j + 16 <= k; j += 16) {
    F16x xv[M];
#pragma GCC unroll 4
    for (int m = 0; m < M; ++m) xv[m] = load16(x + m * k + j);
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) {
      const F16x wv = load16(w + r * ldw + j);
#pragma GCC unroll 4
      for (int m = 0; m < M; ++m) acc[r][m] += wv * xv[m];
    }
  }
  for (int r = 0; r < R; ++r)
    for (int m = 0; m < M; ++m) {
      float s = hsum16(acc[r][m]);
      for (int64_t t = j; t < k; ++t) s += w[r * ldw + t] * x[m * k + t];
      y[m * ldy + r] = s;
    }
}

TRAPETUM_INLINE void tile_body(const float* w, int64_t ldw, int64_t rows, const float* x, float* y, int64_t m,
                               int64_t ldy, int64_t k) {
  int64_t i = 0;
  for (; i + 4 <= m; i += 4) {
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) micro<4, 4>(w + r * ldw, ldw, x + i * k, k, y + i * ldy + r, ldy);
    for (; r < rows; ++r) micro<1, 4>(w + r * ldw, ldw, x + i * k, k, y + i * ldy + r, ldy);
  }
  for (; i < m; ++i) {
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) micro<4, 1>(w + r * ldw, ldw, x + i * k, k, y + i * ldy + r, ldy);
    for (; r < rows; ++r) micro<1, 1>(w + r * ldw, ldw, x + i * k, k, y + i * ldy + r, ldy);
  }
}

__attribute__((target("avx512f,avx512vl,fma"))) void tile_avx512(const float* w, int64_t ldw, int64_t rows,
                                                                 const float* x, float* y, int64_t m,
                                                                 int64_t ldy, int64_t k) {
  tile_body(w, ldw, rows, x, y, m, ldy, k);
}

__attribute__((target("avx2,fma"))) void tile_avx2(const float* w, int64_t ldw, int64_t rows, const float* x,
                                                   float* y, int64_t m, int64_t ldy, int64_t k) {
  tile_body(w, ldw, rows, x, y, m, ldy, k);
}

void tile_generic(const float* w, int64_t ldw, int64_t rows, const float* x, float* y, int64_t m, int64_t ldy,
                  int64_t k) {
  tile_body(w, ldw, rows, x, y, m, ldy, k);
}

}  // namespace

void matmul_tile(Isa isa, const TensorView& w, const float* x, float* y, int64_t m, int64_t ldy, int64_t r0,
                 int64_t r1, float* tile) {
  const int64_t k = w.cols(), rows = r1 - r0;
  const float* wf;
  if (w.dtype == DType::kF32) {
    wf = static_cast<const float*>(w.data) + r0 * k;
  } else {
    const Codec& c = codec(w.dtype);
    for (int64_t r = 0; r < rows; ++r) c.dequantize(w.row(r0 + r), tile + r * k, k);
    wf = tile;
  }
  float* yr = y + r0;
  switch (isa) {
    case Isa::kAvx512: tile_avx512(wf, k, rows, x, yr, m, ldy, k); break;
    case Isa::kAvx2: tile_avx2(wf, k, rows, x, yr, m, ldy, k); break;
    default: tile_generic(wf, k, rows, x, yr, m, ldy, k); break;
  }
}

}  // namespace trapetum::cpu
