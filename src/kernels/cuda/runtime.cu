// The CUDA runtime and cuBLAS behind plain C++ (runtime.h).
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "core/check.h"
#include "kernels/cuda/cuda_check.cuh"
#include "kernels/cuda/runtime.h"

namespace trapetum::cuda {
namespace {
Error cuda_error(const char* what, cudaError_t e) {
  cudaGetLastError();  // clear the sticky-free error so later calls start clean
  return make_error(what, ": ", cudaGetErrorString(e));
}

void check_blas(cublasStatus_t st, const char* what) {
  if (st == CUBLAS_STATUS_SUCCESS) return;
  std::fprintf(stderr, "trapetum: cuBLAS error in %s: status %d\n", what, int(st));
  std::abort();
}
}  // namespace

Result<int> device_count() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) return cuda_error("CUDA: no usable device", e);
  if (n == 0) return make_error("CUDA: no device found");
  return n;
}

Result<DeviceProps> open_device(int index) {
  TRY(int n, device_count());
  if (index < 0 || index >= n) return make_error("CUDA: device ", index, " does not exist (", n, " found)");
  if (cudaError_t e = cudaSetDevice(index); e != cudaSuccess) return cuda_error("CUDA: cudaSetDevice", e);
  cudaDeviceProp p{};
  if (cudaError_t e = cudaGetDeviceProperties(&p, index); e != cudaSuccess)
    return cuda_error("CUDA: cudaGetDeviceProperties", e);
  DeviceProps d;
  d.index = index;
  d.name = p.name;
  d.sm = p.major * 10 + p.minor;
  d.multiprocessors = p.multiProcessorCount;
  d.total_bytes = int64_t(p.totalGlobalMem);
  d.l2_bytes = p.l2CacheSize;
  return d;
}

Status mem_info(int64_t* free_bytes, int64_t* total_bytes) {
  size_t f = 0, t = 0;
  if (cudaError_t e = cudaMemGetInfo(&f, &t); e != cudaSuccess) return cuda_error("CUDA: cudaMemGetInfo", e);
  *free_bytes = int64_t(f);
  *total_bytes = int64_t(t);
  return Ok{};
}

Result<void*> device_alloc(int64_t bytes) {
  void* p = nullptr;
  if (cudaError_t e = cudaMalloc(&p, size_t(bytes < 1 ? 1 : bytes)); e != cudaSuccess)
    return cuda_error(str_cat("CUDA: cannot allocate ", bytes >> 20, " MiB of device memory").c_str(), e);
  return p;
}

void device_free(void* p) {
  if (p) CUDA_CHECK(cudaFree(p));
}

Result<void*> pinned_alloc(int64_t bytes) {
  void* p = nullptr;
  if (cudaError_t e = cudaMallocHost(&p, size_t(bytes < 1 ? 1 : bytes)); e != cudaSuccess)
    return cuda_error(str_cat("CUDA: cannot allocate ", bytes >> 20, " MiB of pinned host memory").c_str(), e);
  return p;
}

void pinned_free(void* p) {
  if (p) CUDA_CHECK(cudaFreeHost(p));
}

Result<Stream> stream_create() {
  cudaStream_t s = nullptr;
  if (cudaError_t e = cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking); e != cudaSuccess)
    return cuda_error("CUDA: cudaStreamCreate", e);
  return static_cast<Stream>(s);
}

void stream_destroy(Stream s) {
  if (s) CUDA_CHECK(cudaStreamDestroy(as_stream(s)));
}

void stream_sync(Stream s) { CUDA_CHECK(cudaStreamSynchronize(as_stream(s))); }

void copy_h2d(void* dst, const void* host_src, int64_t bytes, Stream s) {
  if (bytes > 0) CUDA_CHECK(cudaMemcpyAsync(dst, host_src, size_t(bytes), cudaMemcpyHostToDevice, as_stream(s)));
}

void copy_d2h(void* host_dst, const void* src, int64_t bytes, Stream s) {
  if (bytes > 0) CUDA_CHECK(cudaMemcpyAsync(host_dst, src, size_t(bytes), cudaMemcpyDeviceToHost, as_stream(s)));
}

void copy_d2d(void* dst, const void* src, int64_t bytes, Stream s) {
  if (bytes > 0) CUDA_CHECK(cudaMemcpyAsync(dst, src, size_t(bytes), cudaMemcpyDeviceToDevice, as_stream(s)));
}

void capture_begin(Stream s) { CUDA_CHECK(cudaStreamBeginCapture(as_stream(s), cudaStreamCaptureModeThreadLocal)); }

Result<GraphExec> capture_end(Stream s) {
  cudaGraph_t g = nullptr;
  if (cudaError_t e = cudaStreamEndCapture(as_stream(s), &g); e != cudaSuccess)
    return cuda_error("CUDA: cudaStreamEndCapture", e);
  cudaGraphExec_t exec = nullptr;
  const cudaError_t e = cudaGraphInstantiate(&exec, g, 0);
  cudaGraphDestroy(g);
  if (e != cudaSuccess) return cuda_error("CUDA: cudaGraphInstantiate", e);
  return static_cast<GraphExec>(exec);
}

void graph_launch(GraphExec g, Stream s) {
  CUDA_CHECK(cudaGraphLaunch(static_cast<cudaGraphExec_t>(g), as_stream(s)));
}

void graph_destroy(GraphExec g) {
  if (g) CUDA_CHECK(cudaGraphExecDestroy(static_cast<cudaGraphExec_t>(g)));
}

Result<Event> event_create() {
  cudaEvent_t e = nullptr;
  if (cudaError_t r = cudaEventCreate(&e); r != cudaSuccess) return cuda_error("CUDA: cudaEventCreate", r);
  return static_cast<Event>(e);
}

void event_destroy(Event e) {
  if (e) CUDA_CHECK(cudaEventDestroy(static_cast<cudaEvent_t>(e)));
}

void event_record(Event e, Stream s) { CUDA_CHECK(cudaEventRecord(static_cast<cudaEvent_t>(e), as_stream(s))); }

float event_ms(Event start, Event end) {
  CUDA_CHECK(cudaEventSynchronize(static_cast<cudaEvent_t>(end)));
  float ms = 0;
  CUDA_CHECK(cudaEventElapsedTime(&ms, static_cast<cudaEvent_t>(start), static_cast<cudaEvent_t>(end)));
  return ms;
}

Result<Blas> blas_create(Stream s) {
  cublasHandle_t h = nullptr;
  if (cublasStatus_t st = cublasCreate(&h); st != CUBLAS_STATUS_SUCCESS)
    return make_error("cuBLAS: cublasCreate failed with status ", int(st));
  check_blas(cublasSetStream(h, as_stream(s)), "cublasSetStream");
  return static_cast<Blas>(h);
}

void blas_destroy(Blas b) {
  if (b) check_blas(cublasDestroy(static_cast<cublasHandle_t>(b)), "cublasDestroy");
}

void gemm_f16(Blas b, const uint16_t* w, const uint16_t* x, float* y, int rows, int n, int k, int64_t ldy) {
  // Column-major view: y^T (rows, n) = W (rows, k) . x^T, where row-major W is W^T col-major.
  const float alpha = 1.0f, beta = 0.0f;
  check_blas(cublasGemmEx(static_cast<cublasHandle_t>(b), CUBLAS_OP_T, CUBLAS_OP_N, rows, n, k, &alpha, w, CUDA_R_16F,
                          k, x, CUDA_R_16F, k, &beta, y, CUDA_R_32F, int(ldy), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT),
             "cublasGemmEx");
}

}  // namespace trapetum::cuda
