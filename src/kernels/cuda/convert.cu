// f32 -> fp16 conversion of prefill activations for the tensor-core GEMM.
#include <cuda_fp16.h>

#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/ops.h"

namespace trapetum::cuda {
namespace {
__global__ void f32_to_f16_kernel(const float* __restrict__ x, uint16_t* __restrict__ y, int64_t n) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) y[i] = __half_as_ushort(__float2half_rn(x[i]));
}
}  // namespace

void f32_to_f16(const float* x, uint16_t* y, int64_t n, Stream s) {
  if (n <= 0) return;
  f32_to_f16_kernel<<<unsigned(blocks_for(n, 256)), 256, 0, as_stream(s)>>>(x, y, n);
  CUDA_CHECK_LAUNCH("f32_to_f16");
}

}  // namespace trapetum::cuda
