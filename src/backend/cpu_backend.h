// CpuBackend: the Backend on host memory, with a persistent thread pool and per-thread
// scratch; picks AVX-512, AVX2 or generic kernels at run time.
#pragma once

#include <optional>
#include <vector>

#include "backend/backend.h"
#include "core/thread_pool.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/gemv.h"

namespace trapetum {

struct CpuOptions {
  std::optional<cpu::Isa> isa;               // default: the best this CPU supports
  cpu::ActMode act = cpu::ActMode::kInt8;  // decode activations; kFloat is the exact mode
};

class CpuBackend final : public Backend {
 public:
  // opts.isa must be one of cpu::supported_isas().
  explicit CpuBackend(int n_threads, const CpuOptions& opts = {});

  const char* name() const override { return "cpu"; }
  int threads() const { return pool_.size(); }
  cpu::Isa isa() const { return isa_; }
  cpu::ActMode act() const { return act_; }
  // Whether matmul of n tokens of a dtype weight takes the fused GEMV path (else a prefill
  // tile path): up to kGemvMaxTokens, or up to kGemvTileMaxTokens where the codec has a
  // 16-row GEMV tile kernel.
  static constexpr int kGemvMaxTokens = 8;
  static constexpr int kGemvTileMaxTokens = 128;
  bool uses_gemv(DType dtype, int n) const;

  Result<std::unique_ptr<Buffer>> alloc(int64_t n_floats) override;
  Result<TensorView> upload(const TensorView& w) override;
  void to_host(const float* src, float* dst, int64_t n) override;
  void to_device(const float* src, float* dst, int64_t n) override { to_host(src, dst, n); }
  void sync() override {}

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

 private:
  // Per-thread scratch of at least n floats.
  float* scratch(int thread, int64_t n);
  // Fills gemv_in_ with x (n tokens of k floats), spread over the threads, unless it already
  // holds exactly that input (the previous matmul read the same activations).
  void prepare_input(const float* x, int n, int64_t k, bool int8);

  ThreadPool pool_;
  cpu::Isa isa_;
  cpu::ActMode act_;
  cpu::GemvTable gemv_;
  cpu::GemvInput gemv_in_;  // activations of the current matmul, prepared for the kernels
  std::vector<std::vector<float>> scratch_;  // one per thread, grown on demand
};

}  // namespace trapetum
