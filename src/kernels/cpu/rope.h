// CPU RoPE of one token's heads: the position's cos/sin table formed once (as the reference
// forms it), then every head rotated 16 lanes at a time.
#pragma once

#include "kernels/cpu/cpu_features.h"
#include "kernels/rope_layout.h"

namespace trapetum::cpu {

// Rotates x (n_heads, head_dim) in place for position pos, as ref::rope; head_dim is even.
// scratch: 2 * head_dim floats.
void rope(Isa isa, float* x, int n_heads, int head_dim, int pos, const float* inv_freq, RopeLayout layout,
          float* scratch);

}  // namespace trapetum::cpu
