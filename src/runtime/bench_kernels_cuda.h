// `bench kernels --device cuda`: each codec's fused GEMV (M = 1) and prefill GEMM (M = 512)
// against cuBLAS fp16 on the same shape, timed with CUDA events over rotating weight copies
// (working set >= 4x L2), with the error against float64. Built with TRAPETUM_CUDA only.
#pragma once

#include <functional>
#include <vector>

#include "backend/cuda_backend.h"
#include "runtime/bench_kernels.h"

namespace trapetum {

struct CudaKernelBenchRow {
  std::string kernel;   // the codec, or "cublas-f16"
  KernelShape shape;
  int tokens;
  double seconds;       // median per call
  double weight_bytes;  // device bytes of one copy of the weights
  double gb_per_s;
  double speedup_vs_cublas;  // cuBLAS fp16 time / this time (1 for cuBLAS itself)
  double max_rel_error;      // against float64 on the seed rows
};

Result<std::vector<CudaKernelBenchRow>> run_cuda_kernel_bench(
    CudaBackend& gpu, const KernelBenchOptions& o, const std::function<void(const CudaKernelBenchRow&)>& progress);

}  // namespace trapetum
