// Scalar reference ops: the specification every fast kernel is tested against. Plain loops,
// double accumulation where it matters; no threads, no intrinsics.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "kernels/rope_layout.h"

namespace trapetum::ref {

// y (m, n) = x (m, k) . w^T where w is (n, k) in any codec; accumulates in double.
void matmul(const TensorView& w, const float* x, float* y, int64_t m);

// y = x / sqrt(mean(x^2) + eps) * weight, over one row of n.
void rmsnorm(const float* x, const float* weight, float* y, int64_t n, float eps);

// Rotates the n_heads heads of one token at position pos in place.
void rope(float* x, int n_heads, int head_dim, int pos, const float* inv_freq, RopeLayout layout);

// out = silu(gate) * up, elementwise.
void swiglu(const float* gate, const float* up, float* out, int64_t n);

// In-place numerically stable softmax of n values.
void softmax(float* x, int64_t n);

// Attention of one query head over cached positions [lo, hi]: k and v point at position 0 of
// this head's cache, with rows of head_dim floats. scores has room for hi + 1 floats.
void attention_head(const float* q, const float* k, const float* v, int lo, int hi, int head_dim, float scale,
                    float* scores, float* out);

}  // namespace trapetum::ref
