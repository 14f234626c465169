// RMSNorm: one block per row; the sum of squares is reduced in double, as the reference does.
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/ops.h"

namespace trapetum::cuda {
namespace {
constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads) rmsnorm_kernel(const float* __restrict__ x, const float* __restrict__ w,
                                                           float* __restrict__ y, int dim, float eps) {
  const float* xr = x + int64_t(blockIdx.x) * dim;
  float* yr = y + int64_t(blockIdx.x) * dim;
  double ss = 0;
  for (int i = int(threadIdx.x); i < dim; i += kThreads) ss += double(xr[i]) * double(xr[i]);
  for (int o = 16; o > 0; o >>= 1) ss += __shfl_xor_sync(0xffffffffu, ss, o);
  __shared__ double part[kThreads / 32];
  if ((threadIdx.x & 31) == 0) part[threadIdx.x >> 5] = ss;
  __syncthreads();
  double total = 0;
  for (int i = 0; i < kThreads / 32; ++i) total += part[i];
  const float scale = float(1.0 / sqrt(total / dim + double(eps)));
  for (int i = int(threadIdx.x); i < dim; i += kThreads) yr[i] = w[i] * (xr[i] * scale);
}
}  // namespace

void rmsnorm(const float* x, const float* weight, float* y, int n, int dim, float eps, Stream s) {
  if (n <= 0) return;
  rmsnorm_kernel<<<unsigned(n), kThreads, 0, as_stream(s)>>>(x, weight, y, dim, eps);
  CUDA_CHECK_LAUNCH("rmsnorm");
}

}  // namespace trapetum::cuda
