// The CUDA runtime as the backend uses it: devices, memory, streams, copies, graphs, events
// and cuBLAS, behind plain C++ (runtime.cu). Stream-ordered calls abort with the CUDA error;
// calls that can fail for reasons outside the program (no device, out of memory) return errors.
#pragma once

#include <cstdint>
#include <string>

#include "core/result.h"
#include "kernels/cuda/ops.h"

namespace trapetum::cuda {

struct DeviceProps {
  int index = 0;
  std::string name;
  int sm = 0;              // compute capability, major * 10 + minor
  int multiprocessors = 0;
  int64_t total_bytes = 0;
  int64_t l2_bytes = 0;
};

// Devices visible to this process; an error when the driver or runtime cannot be used.
Result<int> device_count();
// Makes device index current for this thread and describes it.
Result<DeviceProps> open_device(int index);
Status mem_info(int64_t* free_bytes, int64_t* total_bytes);

Result<void*> device_alloc(int64_t bytes);
void device_free(void* p);
Result<void*> pinned_alloc(int64_t bytes);
void pinned_free(void* p);

Result<Stream> stream_create();
void stream_destroy(Stream s);
void stream_sync(Stream s);
// Asynchronous copies in stream order (host memory must be pinned to overlap).
void copy_h2d(void* dst, const void* host_src, int64_t bytes, Stream s);
void copy_d2h(void* host_dst, const void* src, int64_t bytes, Stream s);
void copy_d2d(void* dst, const void* src, int64_t bytes, Stream s);

// CUDA graphs: everything enqueued on s between begin and end is recorded, not run.
using GraphExec = void*;  // a cudaGraphExec_t
void capture_begin(Stream s);
Result<GraphExec> capture_end(Stream s);
void graph_launch(GraphExec g, Stream s);
void graph_destroy(GraphExec g);

// Events for timing: record on a stream, then milliseconds between two (synchronizes).
using Event = void*;
Result<Event> event_create();
void event_destroy(Event e);
void event_record(Event e, Stream s);
float event_ms(Event start, Event end);

// cuBLAS on one stream.
using Blas = void*;
Result<Blas> blas_create(Stream s);
void blas_destroy(Blas b);
// y (n, rows) f32 (row stride ldy) = x (n, k) fp16 . w^T, w (rows, k) fp16: tensor cores, f32
// accumulation.
void gemm_f16(Blas b, const uint16_t* w, const uint16_t* x, float* y, int rows, int n, int k, int64_t ldy);

}  // namespace trapetum::cuda
