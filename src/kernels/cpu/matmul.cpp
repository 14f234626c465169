// CPU matmul tile kernels: dequantize rows once, then either register-blocked 4x4 dot
// products (few tokens: decode) or 16-row x 8-token outer products (prefill).
#include "kernels/cpu/matmul.h"

#include "kernels/cpu/simd_lanes.h"
#include "quant/row.h"

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

// Prefill form: the tile is stored k-major (k, 16 rows), so each step broadcasts one
// activation per token against 16 rows at once; no horizontal sums, contiguous stores.
template <int M>
TRAPETUM_INLINE void outer_micro(const float* wt, const float* x, int64_t k, float* y, int64_t ldy, int64_t rows) {
  F16x acc[M] = {};
  for (int64_t j = 0; j < k; ++j) {
    const F16x w = load16(wt + j * 16);
#pragma GCC unroll 8
    for (int m = 0; m < M; ++m) acc[m] += w * x[m * k + j];
  }
  for (int m = 0; m < M; ++m) std::memcpy(y + m * ldy, &acc[m], size_t(rows) * sizeof(float));
}

TRAPETUM_INLINE void outer_body(const float* wt, int64_t rows, const float* x, float* y, int64_t m, int64_t ldy,
                                int64_t k) {
  int64_t i = 0;
  for (; i + 8 <= m; i += 8) outer_micro<8>(wt, x + i * k, k, y + i * ldy, ldy, rows);
  switch (m - i) {
    case 7: outer_micro<7>(wt, x + i * k, k, y + i * ldy, ldy, rows); break;
    case 6: outer_micro<6>(wt, x + i * k, k, y + i * ldy, ldy, rows); break;
    case 5: outer_micro<5>(wt, x + i * k, k, y + i * ldy, ldy, rows); break;
    case 4: outer_micro<4>(wt, x + i * k, k, y + i * ldy, ldy, rows); break;
    case 3: outer_micro<3>(wt, x + i * k, k, y + i * ldy, ldy, rows); break;
    case 2: outer_micro<2>(wt, x + i * k, k, y + i * ldy, ldy, rows); break;
    case 1: outer_micro<1>(wt, x + i * k, k, y + i * ldy, ldy, rows); break;
    default: break;
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

__attribute__((target("avx512f,avx512vl,fma"))) void outer_avx512(const float* wt, int64_t rows, const float* x,
                                                                  float* y, int64_t m, int64_t ldy, int64_t k) {
  outer_body(wt, rows, x, y, m, ldy, k);
}

__attribute__((target("avx2,fma"))) void outer_avx2(const float* wt, int64_t rows, const float* x, float* y,
                                                    int64_t m, int64_t ldy, int64_t k) {
  outer_body(wt, rows, x, y, m, ldy, k);
}

void outer_generic(const float* wt, int64_t rows, const float* x, float* y, int64_t m, int64_t ldy, int64_t k) {
  outer_body(wt, rows, x, y, m, ldy, k);
}

// Dequantizes rows [r0, r0 + rows) into tile as (k, 16), zero-padding missing rows. The
// first kMatmulTileRows * k floats of scratch are the tile, the next k a row buffer.
void dequantize_transposed(const TensorView& w, int64_t r0, int64_t rows, float* tile) {
  const int64_t k = w.cols();
  float* row = tile + kMatmulTileRows * k;
  for (int64_t r = 0; r < kMatmulTileRows; ++r) {
    if (r < rows) dequantize_row(w, r0 + r, row);
    for (int64_t j = 0; j < k; ++j) tile[j * kMatmulTileRows + r] = r < rows ? row[j] : 0.0f;
  }
}

}  // namespace

void matmul_tile(Isa isa, const TensorView& w, const float* x, float* y, int64_t m, int64_t ldy, int64_t r0,
                 int64_t r1, float* tile) {
  const int64_t k = w.cols(), rows = r1 - r0;
  float* yr = y + r0;
  if (m >= kOuterMinTokens) {
    dequantize_transposed(w, r0, rows, tile);
    switch (isa) {
      case Isa::kAvx512: outer_avx512(tile, rows, x, yr, m, ldy, k); break;
      case Isa::kAvx2: outer_avx2(tile, rows, x, yr, m, ldy, k); break;
      default: outer_generic(tile, rows, x, yr, m, ldy, k); break;
    }
    return;
  }
  const float* wf;
  if (w.dtype == DType::kF32 && w.outliers.nnz == 0) {
    wf = static_cast<const float*>(w.data) + r0 * k;
  } else {
    for (int64_t r = 0; r < rows; ++r) dequantize_row(w, r0 + r, tile + r * k);
    wf = tile;
  }
  switch (isa) {
    case Isa::kAvx512: tile_avx512(wf, k, rows, x, yr, m, ldy, k); break;
    case Isa::kAvx2: tile_avx2(wf, k, rows, x, yr, m, ldy, k); break;
    default: tile_generic(wf, k, rows, x, yr, m, ldy, k); break;
  }
}

}  // namespace trapetum::cpu
