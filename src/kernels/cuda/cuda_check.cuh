// Error checks and warp helpers shared by the .cu files (CUDA translation units only).
#pragma once

#include <cuda_runtime.h>

#include <cstdio>
#include <cstdlib>

namespace trapetum::cuda {

// Aborts with the CUDA error: for stream-ordered calls and launches, whose failure is a bug.
inline void check_cuda(cudaError_t e, const char* what, const char* file, int line) {
  if (e == cudaSuccess) return;
  std::fprintf(stderr, "trapetum: CUDA error at %s:%d in %s: %s\n", file, line, what, cudaGetErrorString(e));
  std::abort();
}

#define CUDA_CHECK(call) ::trapetum::cuda::check_cuda((call), #call, __FILE__, __LINE__)
// After every <<<...>>> launch.
#define CUDA_CHECK_LAUNCH(name) ::trapetum::cuda::check_cuda(cudaGetLastError(), name, __FILE__, __LINE__)

inline cudaStream_t as_stream(void* s) { return static_cast<cudaStream_t>(s); }

inline int64_t blocks_for(int64_t n, int threads) { return (n + threads - 1) / threads; }

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

}  // namespace trapetum::cuda
