// Dispatch of the GEMV and row-decoding launchers by device layout family, and the sparse
// outlier pass of the decoded prefill tiles and embeddings.
#include <cuda_fp16.h>

#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/family_dispatch.h"
#include "kernels/cuda/gemv_launch.h"
#include "kernels/cuda/ops.h"

namespace trapetum::cuda {
namespace {

// Adds row r's outliers to dst (rows, cols) of fp16 (tiles) or f32 (embeddings); one thread per
// output row, rows[i] the weight row of output row i (null: r0 + i).
template <class T>
__global__ void outliers_kernel(DevWeight w, int64_t r0, const int32_t* rows, int n, T* dst) {
  const int i = int(blockIdx.x * blockDim.x + threadIdx.x);
  if (i >= n) return;
  const int64_t r = rows ? rows[i] : r0 + i;
  T* out = dst + int64_t(i) * w.cols;
  for (uint32_t j = w.o_row_ptr[r]; j < w.o_row_ptr[r + 1]; ++j) {
    const float o = __half2float(__ushort_as_half(w.o_vals[j]));
    if constexpr (sizeof(T) == 2) {
      const float v = __half2float(__ushort_as_half(out[w.o_cols[j]])) + o;
      out[w.o_cols[j]] = __half_as_ushort(__float2half_rn(v));
    } else {
      out[w.o_cols[j]] += o;
    }
  }
}

}  // namespace

void gemv(const DevWeight& w, const float* x, float* y, int n, Stream s) {
  with_family(w.family, [&]<Family F>() { gemv_launch<F>(w, x, y, n, as_stream(s)); });
}

void dequant_f16(const DevWeight& w, int64_t r0, int64_t r1, uint16_t* dst, Stream s) {
  with_family(w.family, [&]<Family F>() { dequant_f16_launch<F>(w, r0, r1, dst, as_stream(s)); });
  if (w.nnz == 0) return;
  const int n = int(r1 - r0);
  outliers_kernel<uint16_t><<<unsigned(blocks_for(n, 128)), 128, 0, as_stream(s)>>>(w, r0, nullptr, n, dst);
  CUDA_CHECK_LAUNCH("dequant_f16 outliers");
}

void embed(const DevWeight& w, const int32_t* ids, int n, float* out, Stream s) {
  with_family(w.family, [&]<Family F>() { embed_launch<F>(w, ids, n, out, as_stream(s)); });
  if (w.nnz == 0) return;
  outliers_kernel<float><<<unsigned(blocks_for(n, 128)), 128, 0, as_stream(s)>>>(w, 0, ids, n, out);
  CUDA_CHECK_LAUNCH("embed outliers");
}

}  // namespace trapetum::cuda
