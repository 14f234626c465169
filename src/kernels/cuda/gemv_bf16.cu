// Fused GEMV, prefill-tile and embedding kernels for the bf16 device layout (device_weight.h).
#include "kernels/cuda/gemv_body.cuh"

namespace trapetum::cuda {
TRAPETUM_INSTANTIATE_FAMILY(Family::kBF16)
}  // namespace trapetum::cuda
