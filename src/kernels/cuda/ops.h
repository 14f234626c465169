// Launchers of the CUDA kernels, one .cu per op. Plain C++: callers never see CUDA headers.
// Pointers are device memory unless named host; every launch is checked and aborts with the
// CUDA error on failure (a failed launch is a bug, not bad input).
#pragma once

#include <cstdint>

#include "kernels/cuda/device_weight.h"
#include "kernels/kv_type.h"

namespace trapetum::cuda {

using Stream = void*;  // a cudaStream_t

// y (n, w.rows) = x (n, w.cols) . w^T by the fused dequantizing GEMV, weights streamed once per
// group of up to 8 tokens (gemv_*.cu).
void gemv(const DevWeight& w, const float* x, float* y, int n, Stream s);
// dst (r1 - r0, w.cols) fp16 = rows r0 .. r1 - 1 of w, outliers included (prefill tiles).
void dequant_f16(const DevWeight& w, int64_t r0, int64_t r1, uint16_t* dst, Stream s);
// out (n, w.cols) = rows ids[0 .. n) of w (ids in device memory, each in [0, w.rows)).
void embed(const DevWeight& w, const int32_t* ids, int n, float* out, Stream s);

// y (n) fp16 = x (n), round to nearest even (convert.cu).
void f32_to_f16(const float* x, uint16_t* y, int64_t n, Stream s);
// y (n, dim) = x / sqrt(mean(x^2) + eps) * weight, per row (rmsnorm.cu).
void rmsnorm(const float* x, const float* weight, float* y, int n, int dim, float eps, Stream s);
// x (n) += y (n); y (n, len) += bias (len) on every row; out = silu(gate) * up (elementwise.cu).
void add(float* x, const float* y, int64_t n, Stream s);
void add_bias(float* y, const float* bias, int n, int len, Stream s);
void swiglu(const float* gate, const float* up, float* out, int64_t n, Stream s);
// Rotates x (n, n_heads, head_dim) in place; token i is at position *pos0 + i (rope.cu).
void rope(float* x, int n, int n_heads, int head_dim, const int* pos0, const float* inv_freq, bool interleaved,
          Stream s);

// The KV cache of one layer: k, v (n_kv_heads, capacity, kv_row_bytes(type, head_dim)).
struct KvDev {
  void* k;
  void* v;
  int capacity;
  KvType type;
  int64_t row_bytes;  // kv_row_bytes(type, head_dim)
};
// Writes k, v (n, n_kv_heads * head_dim) at positions *pos0 .. *pos0 + n - 1 (kv_store.cu).
void kv_store(const KvDev& kv, const float* k, const float* v, int n, const int* pos0, int n_kv_heads, int head_dim,
              Stream s);

struct AttentionDims {
  int n_heads, n_kv_heads, head_dim;
  int window;  // sliding window in positions; 0 = unlimited
  float scale;
};
// Key-range splits per query: many for decode (flash-decoding), one for long prefills; a pure
// function of n and capacity, so a captured graph stays valid as positions advance.
int attention_splits(int n, int capacity);
// Floats of scratch attention() needs.
int64_t attention_scratch_floats(int n, const AttentionDims& d, int splits);
// out (n, n_heads * head_dim): causal attention of q (n, n_heads * head_dim) at positions
// *pos0 + i over the cache; head_dim <= 256 (attention.cu).
void attention(const float* q, const KvDev& kv, float* out, int n, const int* pos0, const AttentionDims& d,
               int splits, float* scratch, Stream s);

// *out = the index of the largest of x (n) (the first on ties) (argmax.cu).
void argmax(const float* x, int n, int32_t* out, Stream s);

}  // namespace trapetum::cuda
