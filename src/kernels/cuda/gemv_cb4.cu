// Fused GEMV, prefill-tile and embedding kernels for the cb4 device layout (device_weight.h).
#include "kernels/cuda/gemv_body.cuh"

namespace trapetum::cuda {
TRAPETUM_INSTANTIATE_FAMILY(Family::kCb4)
}  // namespace trapetum::cuda
