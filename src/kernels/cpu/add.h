// CPU elementwise additions of the forward pass: the residual add and the bias add.
#pragma once

#include <cstdint>

#include "kernels/cpu/cpu_features.h"

namespace trapetum::cpu {

// x (n) += y (n).
void add(Isa isa, float* x, const float* y, int64_t n);

// y (n, len) += bias (len) on every row.
void add_bias(Isa isa, float* y, const float* bias, int64_t n, int64_t len);

}  // namespace trapetum::cpu
