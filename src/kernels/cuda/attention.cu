// Causal attention over the KV cache, flash-decoding style: each block scores one key range
// of one (token, head) with an online softmax (4 warps, one key per warp at a time), then a
// second kernel merges the ranges. Positions come from device memory (*pos0 + token).
#include <cuda_fp16.h>

#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/ops.h"

namespace trapetum::cuda {
namespace {
constexpr int kWarps = 4;
constexpr int kMaxDimsPerLane = 8;  // head_dim <= 256

__device__ __forceinline__ float load_kv(const char* row, int e, KvType type) {
  if (type == KvType::kF16) return __half2float(__ushort_as_half(reinterpret_cast<const uint16_t*>(row)[e]));
  if (type == KvType::kF32) return reinterpret_cast<const float*>(row)[e];
  const KvQ8Block* b = reinterpret_cast<const KvQ8Block*>(row) + e / kKvQ8BlockValues;
  return b->d * float(b->q[e % kKvQ8BlockValues]);
}

// part ((token * n_heads + h) * splits + split, head_dim + 2): acc[head_dim], max score, sum.
__global__ void __launch_bounds__(32 * kWarps) attention_part_kernel(const float* __restrict__ q, KvDev kv,
                                                                     const int* __restrict__ pos0, AttentionDims d,
                                                                     float* __restrict__ part) {
  const int h = int(blockIdx.x), token = int(blockIdx.y), split = int(blockIdx.z), splits = int(gridDim.z);
  const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;
  const int hd = d.head_dim;
  const int pos = *pos0 + token;
  const int lo = d.window > 0 ? max(0, pos - d.window + 1) : 0;
  const int span = (pos - lo + splits) / splits;  // ceil((pos - lo + 1) / splits)
  const int k0 = lo + split * span, k1 = min(pos + 1, k0 + span);
  const int kvh = h / (d.n_heads / d.n_kv_heads);
  const int64_t row_bytes = kv.row_bytes;
  const char* kbase = static_cast<const char*>(kv.k) + int64_t(kvh) * kv.capacity * row_bytes;
  const char* vbase = static_cast<const char*>(kv.v) + int64_t(kvh) * kv.capacity * row_bytes;

  float qr[kMaxDimsPerLane], acc[kMaxDimsPerLane];
  const float* qh = q + (int64_t(token) * d.n_heads + h) * hd;
#pragma unroll
  for (int j = 0; j < kMaxDimsPerLane; ++j) {
    qr[j] = lane + 32 * j < hd ? qh[lane + 32 * j] : 0.0f;
    acc[j] = 0.0f;
  }
  float m = -INFINITY, l = 0.0f;
  for (int key = k0 + warp; key < k1; key += kWarps) {
    const char* kr = kbase + key * row_bytes;
    float dot = 0.0f;
#pragma unroll
    for (int j = 0; j < kMaxDimsPerLane; ++j)
      if (lane + 32 * j < hd) dot += qr[j] * load_kv(kr, lane + 32 * j, kv.type);
    const float s = warp_sum(dot) * d.scale;
    const float m_new = fmaxf(m, s);
    const float corr = expf(m - m_new), p = expf(s - m_new);
    l = l * corr + p;
    const char* vr = vbase + key * row_bytes;
#pragma unroll
    for (int j = 0; j < kMaxDimsPerLane; ++j)
      if (lane + 32 * j < hd) acc[j] = acc[j] * corr + p * load_kv(vr, lane + 32 * j, kv.type);
    m = m_new;
  }

  __shared__ float wm[kWarps], wl[kWarps];
  __shared__ float wacc[kWarps][32 * kMaxDimsPerLane];
  if (lane == 0) wm[warp] = m, wl[warp] = l;
#pragma unroll
  for (int j = 0; j < kMaxDimsPerLane; ++j)
    if (lane + 32 * j < hd) wacc[warp][lane + 32 * j] = acc[j];
  __syncthreads();
  float mm = -INFINITY;
  for (int w = 0; w < kWarps; ++w) mm = fmaxf(mm, wm[w]);
  float* out = part + ((int64_t(token) * d.n_heads + h) * splits + split) * (hd + 2);
  for (int e = int(threadIdx.x); e < hd + 2; e += 32 * kWarps) {
    float v = 0.0f;
    if (mm == -INFINITY) {
      v = e == hd ? -INFINITY : 0.0f;  // an empty range
    } else if (e == hd) {
      v = mm;
    } else {
      for (int w = 0; w < kWarps; ++w) {
        const float f = expf(wm[w] - mm);
        v += f * (e < hd ? wacc[w][e] : wl[w]);
      }
    }
    out[e] = v;
  }
}

// out (n, n_heads * head_dim) from the splits' partial results; one block per (head, token).
__global__ void attention_merge_kernel(const float* __restrict__ part, int splits, AttentionDims d,
                                       float* __restrict__ out) {
  const int h = int(blockIdx.x), token = int(blockIdx.y), hd = d.head_dim;
  const float* p = part + (int64_t(token) * d.n_heads + h) * splits * (hd + 2);
  float mm = -INFINITY;
  for (int s = 0; s < splits; ++s) mm = fmaxf(mm, p[s * (hd + 2) + hd]);
  for (int e = int(threadIdx.x); e < hd; e += blockDim.x) {
    float num = 0.0f, den = 0.0f;
    for (int s = 0; s < splits; ++s) {
      const float* ps = p + s * (hd + 2);
      if (ps[hd] == -INFINITY) continue;
      const float f = expf(ps[hd] - mm);
      num += f * ps[e];
      den += f * ps[hd + 1];
    }
    out[(int64_t(token) * d.n_heads + h) * hd + e] = num / den;
  }
}
}  // namespace

int attention_splits(int n, int capacity) {
  if (n > 8) return 1;
  const int s = capacity / 256;
  return s < 1 ? 1 : (s > 32 ? 32 : s);
}

int64_t attention_scratch_floats(int n, const AttentionDims& d, int splits) {
  return int64_t(n) * d.n_heads * splits * (d.head_dim + 2);
}

void attention(const float* q, const KvDev& kv, float* out, int n, const int* pos0, const AttentionDims& d,
               int splits, float* scratch, Stream s) {
  if (n <= 0) return;
  const dim3 grid(unsigned(d.n_heads), unsigned(n), unsigned(splits));
  attention_part_kernel<<<grid, 32 * kWarps, 0, as_stream(s)>>>(q, kv, pos0, d, scratch);
  CUDA_CHECK_LAUNCH("attention");
  attention_merge_kernel<<<dim3(unsigned(d.n_heads), unsigned(n)), 128, 0, as_stream(s)>>>(scratch, splits, d, out);
  CUDA_CHECK_LAUNCH("attention merge");
}

}  // namespace trapetum::cuda
