// Fused GEMV, prefill-tile and embedding kernels for the cb4s device layout (device_weight.h).
#include "kernels/cuda/gemv_body.cuh"

namespace trapetum::cuda {
TRAPETUM_INSTANTIATE_FAMILY(Family::kCb4S)
}  // namespace trapetum::cuda
