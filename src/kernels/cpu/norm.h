// CPU RMSNorm of one row.
#pragma once

#include <cstdint>

#include "kernels/cpu/cpu_features.h"

namespace trapetum::cpu {

// y (dim) = x / sqrt(mean(x^2) + eps) * weight (dim), as ref::rmsnorm. y may alias x.
void rmsnorm(Isa isa, const float* x, const float* weight, float* y, int64_t dim, float eps);

}  // namespace trapetum::cpu
