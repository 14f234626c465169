// Elementwise ops of the forward pass: residual add, bias add, SwiGLU.
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/ops.h"

namespace trapetum::cuda {
namespace {
__global__ void add_kernel(float* __restrict__ x, const float* __restrict__ y, int64_t n) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) x[i] += y[i];
}

__global__ void add_bias_kernel(float* __restrict__ y, const float* __restrict__ bias, int64_t n, int len) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) y[i] += bias[i % len];
}

// silu(g) * u with an IEEE exp (expf, not __expf), as the reference computes it.
__global__ void swiglu_kernel(const float* __restrict__ gate, const float* __restrict__ up, float* out, int64_t n) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float g = gate[i];
  out[i] = g / (1.0f + expf(-g)) * up[i];
}
}  // namespace

void add(float* x, const float* y, int64_t n, Stream s) {
  if (n <= 0) return;
  add_kernel<<<unsigned(blocks_for(n, 256)), 256, 0, as_stream(s)>>>(x, y, n);
  CUDA_CHECK_LAUNCH("add");
}

void add_bias(float* y, const float* bias, int n, int len, Stream s) {
  const int64_t total = int64_t(n) * len;
  if (total <= 0) return;
  add_bias_kernel<<<unsigned(blocks_for(total, 256)), 256, 0, as_stream(s)>>>(y, bias, total, len);
  CUDA_CHECK_LAUNCH("add_bias");
}

void swiglu(const float* gate, const float* up, float* out, int64_t n, Stream s) {
  if (n <= 0) return;
  swiglu_kernel<<<unsigned(blocks_for(n, 256)), 256, 0, as_stream(s)>>>(gate, up, out, n);
  CUDA_CHECK_LAUNCH("swiglu");
}

}  // namespace trapetum::cuda
