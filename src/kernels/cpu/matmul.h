// CPU matmul for every codec: each task dequantizes a tile of weight rows into f32 scratch
// once and applies it to all tokens, so a quantized matrix is never expanded whole.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "kernels/cpu/cpu_features.h"

namespace trapetum::cpu {

inline constexpr int64_t kMatmulTileRows = 16;
// From this many tokens on, tiles are applied as outer products (the prefill form).
inline constexpr int64_t kOuterMinTokens = 4;

// Floats of per-thread scratch matmul_tile needs for rows of k elements.
inline int64_t matmul_scratch_floats(int64_t k) { return (kMatmulTileRows + 1) * k; }

// Computes y[i, r] = sum_j w[r, j] * x[i, j] for r in [r0, r1) (r1 - r0 <= kMatmulTileRows)
// and i in [0, m). x is (m, k) with rows of k floats, y is (m, ldy).
// tile: scratch of matmul_scratch_floats(k) floats.
void matmul_tile(Isa isa, const TensorView& w, const float* x, float* y, int64_t m, int64_t ldy, int64_t r0,
                 int64_t r1, float* tile);

}  // namespace trapetum::cpu
