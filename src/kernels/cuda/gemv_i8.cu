// Fused GEMV, prefill-tile and embedding kernels for the i8 device layout (device_weight.h).
#include "kernels/cuda/gemv_body.cuh"

namespace trapetum::cuda {
TRAPETUM_INSTANTIATE_FAMILY(Family::kI8)
}  // namespace trapetum::cuda
