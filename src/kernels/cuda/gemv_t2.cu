// Fused GEMV, prefill-tile and embedding kernels for the t2 device layout (device_weight.h).
#include "kernels/cuda/gemv_body.cuh"

namespace trapetum::cuda {
TRAPETUM_INSTANTIATE_FAMILY(Family::kT2)
}  // namespace trapetum::cuda
