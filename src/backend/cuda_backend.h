// CudaBackend: the Backend on one NVIDIA GPU. Owns the stream, the cuBLAS handle, the weights
// in their device layout (kernels/cuda/pack.h) and the CUDA graphs of decode steps: a step
// of one token is run once, captured the second time, then replayed.
#pragma once

#include <map>
#include <memory>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "backend/backend.h"
#include "kernels/cuda/runtime.h"

namespace trapetum {

struct CudaOptions {
  int device = 0;
  bool graphs = true;  // capture and replay decode steps
};

class CudaBackend final : public Backend {
 public:
  // An error (not a crash) when there is no usable GPU.
  static Result<std::unique_ptr<CudaBackend>> create(const CudaOptions& o = {});
  ~CudaBackend() override;
  CudaBackend(const CudaBackend&) = delete;
  CudaBackend& operator=(const CudaBackend&) = delete;

  const char* name() const override { return "cuda"; }
  std::string describe() const override;
  const cuda::DeviceProps& props() const { return props_; }
  cuda::Stream stream() const { return stream_; }
  cuda::Blas blas() const { return blas_; }
  // Device bytes this backend holds: uploaded weights, and everything it allocated.
  int64_t weight_bytes() const { return weight_bytes_; }
  int64_t allocated_bytes() const { return allocated_bytes_; }
  int64_t peak_allocated_bytes() const { return peak_bytes_; }
  // Device-to-device copy bandwidth (bytes read plus written per second), median of reps.
  Result<double> copy_bandwidth_gb_s(int64_t bytes, int reps);
  // Decode steps replayed from a graph so far (for tests and bench).
  int64_t graph_replays() const { return graph_replays_; }
  // The device layout of an uploaded 2-D weight.
  const cuda::DevWeight& dev_weight(const TensorView& w) const;

  // upload(): a fresh device copy each call (weights stay until free_uploads or destruction).
  Result<TensorView> upload_copy(const TensorView& w);
  // Frees every uploaded weight; views from upload() become invalid (kernel benchmarks).
  void free_uploads();
  // matmul on a device-layout weight.
  void matmul_dev(const cuda::DevWeight& w, const float* x, float* y, int n);

  Result<std::unique_ptr<Buffer>> alloc(int64_t n_floats) override;
  Result<TensorView> upload(const TensorView& w) override;
  void to_host(const float* src, float* dst, int64_t n) override;
  void to_device(const float* src, float* dst, int64_t n) override;
  void sync() override;
  void run_step(const StepInputs& in, const std::function<void()>& ops) override;

  void embed(const TensorView& table, const int32_t* ids, int n, float* out) override;
  void matmul(const TensorView& w, const float* x, float* y, int n) override;
  void add_bias(float* y, const float* bias, int n, int len) override;
  void rmsnorm(const float* x, const float* weight, float* y, int n, int dim, float eps) override;
  void rope(float* x, int n, int n_heads, int head_dim, int pos0, const float* inv_freq, RopeLayout layout) override;
  void kv_store(const KvLayerView& kv, const float* k, const float* v, int n, int pos0, int n_kv_heads,
                int head_dim) override;
  void attention(const float* q, const KvLayerView& kv, float* out, int n, int pos0,
                 const AttentionShape& shape) override;
  void swiglu(const float* gate, const float* up, float* out, int64_t n) override;
  void add(float* x, const float* y, int64_t n) override;

  // Called by this backend's buffers when freed: graphs may hold their addresses.
  void forget_graphs();
  // Called by this backend's buffers when freed.
  void on_free(int64_t bytes);

 private:
  CudaBackend() = default;
  // Device (scratch) or pinned host (pinned) memory of at least bytes, grown on demand.
  void* scratch(int slot, int64_t bytes);
  void* pinned(int slot, int64_t bytes);
  void* grow(std::pair<void*, int64_t>& slot, int64_t bytes, bool pinned_host);
  // Device pointer to pos0 (the step's, or a fresh upload outside steps).
  const int* device_pos(int pos0);
  void finish_host_copies();

  struct HostCopy {
    float* dst;
    int64_t offset;  // floats into the pinned logits staging
    int64_t n;
  };
  struct Graph {
    cuda::GraphExec exec = nullptr;
    std::vector<HostCopy> copies;
  };
  using GraphKey = std::tuple<const void*, const void*, const float*, bool>;

  CudaOptions opts_;
  cuda::DeviceProps props_;
  cuda::Stream stream_ = nullptr;
  cuda::Blas blas_ = nullptr;
  std::vector<void*> weight_allocs_;
  std::unordered_map<const void*, cuda::DevWeight> dev_weights_;  // by device codes pointer
  int64_t weight_bytes_ = 0, allocated_bytes_ = 0, peak_bytes_ = 0, weight_alloc_bytes_ = 0;
  void count_alloc(int64_t bytes);

  enum Slot { kStep, kPos, kIds, kAttn, kTile, kActF16, kSlots };
  std::vector<std::pair<void*, int64_t>> scratch_ = std::vector<std::pair<void*, int64_t>>(kSlots);
  enum PinnedSlot { kPinStep, kPinLogits, kPinnedSlots };
  std::vector<std::pair<void*, int64_t>> pinned_ = std::vector<std::pair<void*, int64_t>>(kPinnedSlots);

  // The step in progress (run_step), if any.
  bool in_step_ = false, capturing_ = false;
  StepInputs step_{};
  std::vector<HostCopy> copies_;  // made by to_host during the step
  int64_t logits_used_ = 0;       // floats of the pinned logits staging used by this step
  std::map<GraphKey, Graph> graphs_;
  std::map<GraphKey, int> seen_;  // one-token steps run per key, before capture
  int64_t graph_replays_ = 0;
};

}  // namespace trapetum
