// Backend: the operations the transformer forward pass is written against, once, for every
// device. Activation pointers are device memory of the backend that allocated them.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "core/result.h"
#include "core/tensor.h"
#include "kernels/kv_type.h"
#include "kernels/rope_layout.h"

namespace trapetum {

// Device memory owned by a backend; freed on destruction.
class Buffer {
 public:
  virtual ~Buffer() = default;
  virtual float* data() = 0;
  virtual int64_t size() const = 0;  // in floats
};

// One layer of the KV cache: k and v are (n_kv_heads, capacity, row) where a row holds
// head_dim values in kv_row_bytes(type, head_dim) bytes (kernels/kv_type.h).
struct KvLayerView {
  void* k;
  void* v;
  int capacity;
  KvType type = KvType::kF32;
};

struct AttentionShape {
  int n_heads;
  int n_kv_heads;
  int head_dim;
  int window;  // sliding window in positions; 0 = unlimited
};

// One forward call as the backend sees it: host token ids, the first at position pos0, and
// what identifies the call's buffers: the same state, cache and logits mean the same pointers.
struct StepInputs {
  const int32_t* tokens;
  int n;
  int pos0;
  const void* state;    // the activations
  const void* cache;    // the KV cache of the first (for n = 1, the only) sequence
  const float* logits;  // host destination of the logits
  bool all_logits;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  // For reports: the device and the kernels it runs.
  virtual std::string describe() const { return name(); }

  virtual Result<std::unique_ptr<Buffer>> alloc(int64_t n_floats) = 0;
  // Makes a weight usable on this device; the CPU backend keeps the mapped view as is.
  virtual Result<TensorView> upload(const TensorView& w) = 0;
  virtual void to_host(const float* src, float* dst, int64_t n) = 0;
  virtual void to_device(const float* src, float* dst, int64_t n) = 0;
  virtual void sync() = 0;

  // out (n, cols) = rows ids of table (vocab, cols).
  virtual void embed(const TensorView& table, const int32_t* ids, int n, float* out) = 0;
  // y (n, rows) = x (n, cols) . w^T, w (rows, cols) in any codec.
  virtual void matmul(const TensorView& w, const float* x, float* y, int n) = 0;
  // Runs ops(), the backend calls of one forward step, and returns when the host copies they
  // made (to_host) are complete. A backend may record a decode step's calls once and replay
  // them for later steps with the same state (CUDA graphs): ops must then issue the same calls
  // with the same pointers each time, with positions and ids taken from in.
  virtual void run_step(const StepInputs& in, const std::function<void()>& ops) { ops(); }

  // y (n, len) += bias (len) on every row.
  virtual void add_bias(float* y, const float* bias, int n, int len) = 0;
  // y (n, dim) = rmsnorm(x (n, dim)) * weight (dim).
  virtual void rmsnorm(const float* x, const float* weight, float* y, int n, int dim, float eps) = 0;
  // Rotates x (n, n_heads, head_dim) in place; token i is at position pos0 + i.
  virtual void rope(float* x, int n, int n_heads, int head_dim, int pos0, const float* inv_freq,
                    RopeLayout layout) = 0;
  // Writes k, v (n, n_kv_heads * head_dim) into the cache at positions pos0 .. pos0 + n - 1,
  // converted to the cache's element type.
  virtual void kv_store(const KvLayerView& kv, const float* k, const float* v, int n, int pos0, int n_kv_heads,
                        int head_dim) = 0;
  // out (n, n_heads * head_dim): causal attention of q (n, n_heads * head_dim) for tokens at
  // pos0 .. pos0 + n - 1 over the cache.
  virtual void attention(const float* q, const KvLayerView& kv, float* out, int n, int pos0,
                         const AttentionShape& shape) = 0;
  // out (n) = silu(gate) * up.
  virtual void swiglu(const float* gate, const float* up, float* out, int64_t n) = 0;
  // x (n) += y (n).
  virtual void add(float* x, const float* y, int64_t n) = 0;
};

}  // namespace trapetum
