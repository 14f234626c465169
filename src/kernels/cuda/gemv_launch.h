// Per-family launchers of the GEMV and row-decoding kernels (gemv_body.cuh), instantiated
// once per family in gemv_<family>.cu and dispatched by gemv.cu.
#pragma once

#include <cuda_runtime.h>

#include "kernels/cuda/device_weight.h"

namespace trapetum::cuda {

template <Family F>
void gemv_launch(const DevWeight& w, const float* x, float* y, int n, cudaStream_t s);
template <Family F>
void dequant_f16_launch(const DevWeight& w, int64_t r0, int64_t r1, uint16_t* dst, cudaStream_t s);
template <Family F>
void embed_launch(const DevWeight& w, const int32_t* ids, int n, float* out, cudaStream_t s);

}  // namespace trapetum::cuda
