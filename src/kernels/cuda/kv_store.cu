// Writes new keys and values into the KV cache in its element type (kernels/kv_type.h): one
// warp per 32 values, so a q8 block's max|x| is one warp reduction.
#include <cuda_fp16.h>

#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/ops.h"

namespace trapetum::cuda {
namespace {
// Grid: (blocks of 32 values per row, n * n_kv_heads, 2 for k and v); 32 threads.
__global__ void kv_store_kernel(KvDev kv, const float* __restrict__ k, const float* __restrict__ v, int n,
                                const int* __restrict__ pos0, int n_kv_heads, int head_dim) {
  const int lane = int(threadIdx.x);
  const int blk = int(blockIdx.x);
  const int token = int(blockIdx.y) / n_kv_heads, h = int(blockIdx.y) % n_kv_heads;
  const float* src = (blockIdx.z ? v : k) + (int64_t(token) * n_kv_heads + h) * head_dim;
  char* row = static_cast<char*>(blockIdx.z ? kv.v : kv.k) + (int64_t(h) * kv.capacity + *pos0 + token) * kv.row_bytes;
  const int e = blk * 32 + lane;
  const float x = e < head_dim ? src[e] : 0.0f;
  if (kv.type == KvType::kF32) {
    if (e < head_dim) reinterpret_cast<float*>(row)[e] = x;
  } else if (kv.type == KvType::kF16) {
    if (e < head_dim) reinterpret_cast<uint16_t*>(row)[e] = __half_as_ushort(__float2half_rn(x));
  } else {
    const float amax = warp_max(fabsf(x));
    KvQ8Block* b = reinterpret_cast<KvQ8Block*>(row) + blk;
    const float d = amax / 127.0f;
    const float id = d > 0 ? 1.0f / d : 0.0f;
    if (lane == 0) b->d = d;
    b->q[lane] = e < head_dim ? int8_t(fminf(fmaxf(rintf(x * id), -127.0f), 127.0f)) : int8_t(0);
  }
}
}  // namespace

void kv_store(const KvDev& kv, const float* k, const float* v, int n, const int* pos0, int n_kv_heads, int head_dim,
              Stream s) {
  if (n <= 0) return;
  const dim3 grid(unsigned((head_dim + 31) / 32), unsigned(n * n_kv_heads), 2);
  kv_store_kernel<<<grid, 32, 0, as_stream(s)>>>(kv, k, v, n, pos0, n_kv_heads, head_dim);
  CUDA_CHECK_LAUNCH("kv_store");
}

}  // namespace trapetum::cuda
