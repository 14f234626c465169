// Greedy sampling on the device: the index of the largest logit (the first on ties).
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/ops.h"

namespace trapetum::cuda {
namespace {
constexpr int kThreads = 1024;

__device__ __forceinline__ void keep_best(float& v, int& i, float ov, int oi) {
  if (ov > v || (ov == v && oi < i)) v = ov, i = oi;
}

__global__ void __launch_bounds__(kThreads) argmax_kernel(const float* __restrict__ x, int n, int32_t* out) {
  float v = -INFINITY;
  int idx = n;  // NaNs never win; an all-NaN input gives n, clamped below
  for (int i = int(threadIdx.x); i < n; i += kThreads) keep_best(v, idx, x[i], i);
  for (int o = 16; o > 0; o >>= 1) keep_best(v, idx, __shfl_xor_sync(0xffffffffu, v, o), __shfl_xor_sync(0xffffffffu, idx, o));
  __shared__ float sv[kThreads / 32];
  __shared__ int si[kThreads / 32];
  if ((threadIdx.x & 31) == 0) sv[threadIdx.x >> 5] = v, si[threadIdx.x >> 5] = idx;
  __syncthreads();
  if (threadIdx.x == 0) {
    for (int w = 0; w < kThreads / 32; ++w) keep_best(v, idx, sv[w], si[w]);
    *out = idx < n ? idx : 0;
  }
}
}  // namespace

void argmax(const float* x, int n, int32_t* out, Stream s) {
  argmax_kernel<<<1, kThreads, 0, as_stream(s)>>>(x, n, out);
  CUDA_CHECK_LAUNCH("argmax");
}

}  // namespace trapetum::cuda
