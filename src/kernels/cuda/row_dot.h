// The per-lane work of the fused GEMV: one lane's share of one row's dot products with NT
// token vectors. Host-callable, so tests run it for every lane and sum, as a warp would.
#pragma once

#include "kernels/cuda/device_weight.h"

namespace trapetum::cuda {

// Loads in flight per lane in the GEMV main loop.
inline constexpr int kGemvUnroll = 2;

// acc[t] += this lane's part of dot(row r of w, x + t * w.cols) for t < NT, over chunks
// lane, lane + lanes, ... and outliers lane, lane + lanes, ... Preconditions: x holds NT rows
// of w.cols floats, 16-byte aligned when w.cols % 4 == 0; book as for decode_chunk.
template <Family F, int NT>
TRAPETUM_HD void row_dot(const DevWeight& w, int64_t r, const float* x, int lane, int lanes, float* acc,
                         const float* book = nullptr) {
  constexpr int kN = kChunk<F>;
  const int64_t cols = w.cols;
  const int64_t full = cols / kN;
  const int64_t chunks = (cols + kN - 1) / kN;
  const bool vec_x = cols % 4 == 0;
  int64_t c = lane;
  for (; c + int64_t(kGemvUnroll - 1) * lanes < full; c += int64_t(kGemvUnroll) * lanes) {
    Raw16 raw[kGemvUnroll];
    TRAPETUM_UNROLL
    for (int u = 0; u < kGemvUnroll; ++u) raw[u] = load_chunk(w, r, c + int64_t(u) * lanes);
    TRAPETUM_UNROLL
    for (int u = 0; u < kGemvUnroll; ++u) {
      const int64_t cu = c + int64_t(u) * lanes;
      float v[kN];
      decode_chunk<F>(w, r, cu, raw[u], v, book);
      TRAPETUM_UNROLL
      for (int t = 0; t < NT; ++t) {
        const float* xp = x + t * cols + cu * kN;
        float s = 0;
        if (vec_x) {
          TRAPETUM_UNROLL
          for (int i = 0; i < kN; i += 4) {
#if defined(__CUDA_ARCH__)
            const float4 q = *reinterpret_cast<const float4*>(xp + i);
            s += v[i] * q.x + v[i + 1] * q.y + v[i + 2] * q.z + v[i + 3] * q.w;
#else
            s += v[i] * xp[i] + v[i + 1] * xp[i + 1] + v[i + 2] * xp[i + 2] + v[i + 3] * xp[i + 3];
#endif
          }
        } else {
          TRAPETUM_UNROLL
          for (int i = 0; i < kN; ++i) s += v[i] * xp[i];
        }
        acc[t] += s;
      }
    }
  }
  for (; c < chunks; c += lanes) {
    float v[kN];
    decode_chunk<F>(w, r, c, load_chunk(w, r, c), v, book);
    const int64_t e0 = c * kN;
    const int n = cols - e0 < kN ? int(cols - e0) : kN;
    TRAPETUM_UNROLL
    for (int t = 0; t < NT; ++t) {
      float s = 0;
      TRAPETUM_UNROLL
      for (int i = 0; i < kN; ++i)
        if (i < n) s += v[i] * x[t * cols + e0 + i];
      acc[t] += s;
    }
  }
  if (w.nnz) {
    for (uint32_t i = w.o_row_ptr[r] + uint32_t(lane); i < w.o_row_ptr[r + 1]; i += uint32_t(lanes)) {
      const float o = half_bits_to_float(w.o_vals[i]);
      TRAPETUM_UNROLL
      for (int t = 0; t < NT; ++t) acc[t] += o * x[t * cols + w.o_cols[i]];
    }
  }
}

}  // namespace trapetum::cuda
