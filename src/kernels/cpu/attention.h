// CPU attention of one query head over a contiguous range of cached positions.
#pragma once

#include "kernels/cpu/cpu_features.h"

namespace trapetum::cpu {

// out (head_dim) = softmax(scale * q . k[p], p in [lo, hi]) . v[p]. k and v point at position
// 0 of this head's cache (rows of head_dim floats); scores has room for hi - lo + 1 floats.
void attention_head(Isa isa, const float* q, const float* k, const float* v, int lo, int hi, int head_dim,
                    float scale, float* scores, float* out);

}  // namespace trapetum::cpu
