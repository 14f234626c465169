// RoPE: one thread per rotated pair; the position comes from device memory (*pos0 + token),
// so a captured decode graph stays valid as positions advance.
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/ops.h"

namespace trapetum::cuda {
namespace {
__global__ void rope_kernel(float* x, int n, int n_heads, int head_dim, const int* __restrict__ pos0,
                            const float* __restrict__ inv_freq, bool interleaved) {
  const int half = head_dim / 2;
  const int64_t idx = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (idx >= int64_t(n) * n_heads * half) return;
  const int i = int(idx % half);
  const int64_t head = idx / half;  // token * n_heads + h
  const int token = int(head / n_heads);
  // The angle is formed in float32, as HF does; cos and sin in double, as the reference.
  const float angle = float(*pos0 + token) * inv_freq[i];
  const float c = float(cos(double(angle))), s = float(sin(double(angle)));
  float* v = x + head * head_dim;
  const int a = interleaved ? 2 * i : i;
  const int b = interleaved ? 2 * i + 1 : i + half;
  const float x0 = v[a], x1 = v[b];
  v[a] = x0 * c - x1 * s;
  v[b] = x1 * c + x0 * s;
}
}  // namespace

void rope(float* x, int n, int n_heads, int head_dim, const int* pos0, const float* inv_freq, bool interleaved,
          Stream s) {
  const int64_t pairs = int64_t(n) * n_heads * (head_dim / 2);
  if (pairs <= 0) return;
  rope_kernel<<<unsigned(blocks_for(pairs, 256)), 256, 0, as_stream(s)>>>(x, n, n_heads, head_dim, pos0, inv_freq,
                                                                         interleaved);
  CUDA_CHECK_LAUNCH("rope");
}

}  // namespace trapetum::cuda
