// Fused GEMV, prefill-tile and embedding kernels for the f16 device layout (device_weight.h).
#include "kernels/cuda/gemv_body.cuh"

namespace trapetum::cuda {
TRAPETUM_INSTANTIATE_FAMILY(Family::kF16)
}  // namespace trapetum::cuda
