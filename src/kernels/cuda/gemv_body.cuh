// The fused GEMV and the row-decoding kernels, templated on the device layout family; each
// gemv_<family>.cu instantiates them for one family (gemv_launch.h).
#pragma once

#include <cuda_fp16.h>

#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/gemv_launch.h"
#include "kernels/cuda/row_dot.h"

namespace trapetum::cuda {

inline constexpr int kGemvWarps = 4;  // rows per block: one warp per row

// y (NT, ldy): one warp per row of w; lanes stride over 16-byte chunks, then a shuffle sum.
template <Family F, int NT>
__global__ void __launch_bounds__(32 * kGemvWarps) gemv_kernel(DevWeight w, const float* __restrict__ x,
                                                                float* __restrict__ y, int64_t ldy) {
  const int lane = int(threadIdx.x) & 31;
  const int warp = int(threadIdx.x) >> 5;
  const int64_t r = int64_t(blockIdx.x) * kGemvWarps + warp;
  if (r >= w.rows) return;
  // Codebook layouts: the row's 16 centroids as floats in shared memory, one set per warp.
  __shared__ float books[kGemvWarps][16];
  const float* book = nullptr;
  if constexpr (F == Family::kCb4 || F == Family::kCb4S) {
    if (lane < 16) books[warp][lane] = __half2float(__ushort_as_half(w.books[r * 16 + lane]));
    __syncwarp();
    book = books[warp];
  }
  float acc[NT];
#pragma unroll
  for (int t = 0; t < NT; ++t) acc[t] = 0.0f;
  row_dot<F, NT>(w, r, x, lane, 32, acc, book);
  for (int t = 0; t < NT; ++t) acc[t] = warp_sum(acc[t]);
  if (lane == 0)
    for (int t = 0; t < NT; ++t) y[t * ldy + r] = acc[t];
}

template <Family F, int NT>
void gemv_nt(const DevWeight& w, const float* x, float* y, cudaStream_t s) {
  const unsigned grid = unsigned((w.rows + kGemvWarps - 1) / kGemvWarps);
  gemv_kernel<F, NT><<<grid, 32 * kGemvWarps, 0, s>>>(w, x, y, w.rows);
  CUDA_CHECK_LAUNCH("gemv");
}

// Decodes chunk (row r, chunk c) into n <= kChunk values of type T at dst.
template <Family F, class T>
__device__ __forceinline__ void decode_store(const DevWeight& w, int64_t r, int64_t c, T* dst) {
  constexpr int kN = kChunk<F>;
  float v[kN];
  decode_chunk<F>(w, r, c, load_chunk(w, r, c), v);
  const int64_t e0 = c * kN;
  const int n = w.cols - e0 < kN ? int(w.cols - e0) : kN;
#pragma unroll
  for (int i = 0; i < kN; ++i) {
    if (i >= n) break;
    if constexpr (sizeof(T) == 2) {
      dst[e0 + i] = __half_as_ushort(__float2half_rn(v[i]));
    } else {
      dst[e0 + i] = v[i];
    }
  }
}

// dst (r1 - r0, cols) fp16: one thread per chunk.
template <Family F>
__global__ void dequant_f16_kernel(DevWeight w, int64_t r0, int64_t n_rows, uint16_t* __restrict__ dst) {
  const int64_t chunks = (w.cols + kChunk<F> - 1) / kChunk<F>;
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n_rows * chunks) return;
  const int64_t rr = i / chunks;
  decode_store<F>(w, r0 + rr, i % chunks, dst + rr * w.cols);
}

// out (n, cols) f32 = rows ids[t]: one thread per chunk.
template <Family F>
__global__ void embed_kernel(DevWeight w, const int32_t* __restrict__ ids, int n, float* __restrict__ out) {
  const int64_t chunks = (w.cols + kChunk<F> - 1) / kChunk<F>;
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n * chunks) return;
  const int64_t t = i / chunks;
  decode_store<F>(w, ids[t], i % chunks, out + t * w.cols);
}

template <Family F>
void gemv_launch(const DevWeight& w, const float* x, float* y, int n, cudaStream_t s) {
  // Groups of 8, then the rest by 4, 2, 1: weights are read once per group.
  int t = 0;
  for (; t + 8 <= n; t += 8) gemv_nt<F, 8>(w, x + int64_t(t) * w.cols, y + int64_t(t) * w.rows, s);
  if (t + 4 <= n) gemv_nt<F, 4>(w, x + int64_t(t) * w.cols, y + int64_t(t) * w.rows, s), t += 4;
  if (t + 2 <= n) gemv_nt<F, 2>(w, x + int64_t(t) * w.cols, y + int64_t(t) * w.rows, s), t += 2;
  if (t < n) gemv_nt<F, 1>(w, x + int64_t(t) * w.cols, y + int64_t(t) * w.rows, s);
}

template <Family F>
void dequant_f16_launch(const DevWeight& w, int64_t r0, int64_t r1, uint16_t* dst, cudaStream_t s) {
  const int64_t work = (r1 - r0) * ((w.cols + kChunk<F> - 1) / kChunk<F>);
  dequant_f16_kernel<F><<<unsigned(blocks_for(work, 256)), 256, 0, s>>>(w, r0, r1 - r0, dst);
  CUDA_CHECK_LAUNCH("dequant_f16");
}

template <Family F>
void embed_launch(const DevWeight& w, const int32_t* ids, int n, float* out, cudaStream_t s) {
  const int64_t work = int64_t(n) * ((w.cols + kChunk<F> - 1) / kChunk<F>);
  embed_kernel<F><<<unsigned(blocks_for(work, 256)), 256, 0, s>>>(w, ids, n, out);
  CUDA_CHECK_LAUNCH("embed");
}

#define TRAPETUM_INSTANTIATE_FAMILY(F)                                                               \
  template void gemv_launch<F>(const DevWeight&, const float*, float*, int, cudaStream_t);           \
  template void dequant_f16_launch<F>(const DevWeight&, int64_t, int64_t, uint16_t*, cudaStream_t); \
  template void embed_launch<F>(const DevWeight&, const int32_t*, int, float*, cudaStream_t);

}  // namespace trapetum::cuda
