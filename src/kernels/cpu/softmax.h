// CPU softmax of one row in place, with the vectorized exp (vec_math.h).
#pragma once

#include <cstdint>

#include "kernels/cpu/cpu_features.h"

namespace trapetum::cpu {

// x (n) = softmax(x), n >= 1; as ref::softmax (max subtracted first).
void softmax(Isa isa, float* x, int64_t n);

}  // namespace trapetum::cpu
