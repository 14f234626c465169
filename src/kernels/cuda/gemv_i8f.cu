// Fused GEMV, prefill-tile and embedding kernels for the i8f device layout (device_weight.h).
#include "kernels/cuda/gemv_body.cuh"

namespace trapetum::cuda {
TRAPETUM_INSTANTIATE_FAMILY(Family::kI8F)
}  // namespace trapetum::cuda
