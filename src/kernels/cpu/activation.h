// CPU SwiGLU activation over a flat range.
#pragma once

#include <cstdint>

#include "kernels/cpu/cpu_features.h"

namespace trapetum::cpu {

// out (n) = silu(gate) * up = gate / (1 + exp(-gate)) * up, as ref::swiglu. out may alias
// gate or up.
void swiglu(Isa isa, const float* gate, const float* up, float* out, int64_t n);

}  // namespace trapetum::cpu
