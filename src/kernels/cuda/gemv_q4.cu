// Fused GEMV, prefill-tile and embedding kernels for the q4 device layout (device_weight.h).
#include "kernels/cuda/gemv_body.cuh"

namespace trapetum::cuda {
TRAPETUM_INSTANTIATE_FAMILY(Family::kQ4)
}  // namespace trapetum::cuda
