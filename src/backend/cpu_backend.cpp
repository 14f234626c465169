// CpuBackend: ops split across the thread pool by output rows, tokens or heads.
#include "backend/cpu_backend.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <new>
#include <string>

#include "core/check.h"
#include "quant/row.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/matmul.h"
#include "kernels/ref/ops.h"

namespace trapetum {
namespace {

// Host memory, 64-byte aligned and not zeroed: pages are only touched (and counted in the
// resident set) once used, so a long context costs nothing until it fills.
class HostBuffer final : public Buffer {
 public:
  explicit HostBuffer(int64_t n) : p_(new (std::align_val_t(64)) float[size_t(n)]), n_(n) {}
  float* data() override { return p_.get(); }
  int64_t size() const override { return n_; }

 private:
  struct Free {
    void operator()(float* p) const { ::operator delete[](p, std::align_val_t(64)); }
  };
  std::unique_ptr<float[], Free> p_;
  int64_t n_;
};

// MemAvailable from /proc/meminfo in bytes, or -1 when unknown.
int64_t available_memory() {
  std::ifstream f("/proc/meminfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("MemAvailable:", 0) == 0) return std::stoll(line.substr(13)) * 1024;
  return -1;
}

}  // namespace

CpuBackend::CpuBackend(int n_threads) : pool_(n_threads), isa_(cpu::detect_isa()), scratch_(size_t(pool_.size())) {}

float* CpuBackend::scratch(int thread, int64_t n) {
  auto& s = scratch_[size_t(thread)];
  if (int64_t(s.size()) < n) s.resize(size_t(n));
  return s.data();
}

Result<std::unique_ptr<Buffer>> CpuBackend::alloc(int64_t n_floats) {
  if (n_floats < 0) return make_error("cpu backend: negative allocation of ", n_floats, " floats");
  const int64_t avail = available_memory();
  if (avail >= 0 && n_floats > avail / 4)
    return make_error("cpu backend: cannot allocate ", n_floats * 4 / (1 << 20), " MiB: only ", avail / (1 << 20),
                      " MiB of memory are available");
  try {
    return std::unique_ptr<Buffer>(new HostBuffer(n_floats));
  } catch (const std::bad_alloc&) {
    return make_error("cpu backend: cannot allocate ", double(n_floats) * 4 / (1 << 20), " MiB");
  }
}

Result<TensorView> CpuBackend::upload(const TensorView& w) { return w; }

void CpuBackend::to_host(const float* src, float* dst, int64_t n) {
  if (src != dst) std::memcpy(dst, src, size_t(n) * 4);
}

void CpuBackend::embed(const TensorView& table, const int32_t* ids, int n, float* out) {
  const int64_t cols = table.cols();
  for (int i = 0; i < n; ++i) {
    CHECK(ids[i] >= 0 && ids[i] < table.rows());
    dequantize_row(table, ids[i], out + int64_t(i) * cols);
  }
}

void CpuBackend::matmul(const TensorView& w, const float* x, float* y, int n) {
  const int64_t rows = w.rows(), k = w.cols();
  const int64_t tile = cpu::kMatmulTileRows;
  const int64_t n_tasks = (rows + tile - 1) / tile;
  // Reserve scratch up front: growing a vector inside the parallel region is fine (one per
  // thread) but doing it here keeps the hot loop free of allocation checks.
  for (int t = 0; t < pool_.size(); ++t) scratch(t, cpu::matmul_scratch_floats(k));
  pool_.parallel_for(n_tasks, [&](int64_t task, int thread) {
    const int64_t r0 = task * tile, r1 = std::min(rows, r0 + tile);
    cpu::matmul_tile(isa_, w, x, y, n, rows, r0, r1, scratch_[size_t(thread)].data());
  });
}

void CpuBackend::add_bias(float* y, const float* bias, int n, int len) {
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < len; ++j) y[int64_t(i) * len + j] += bias[j];
}

void CpuBackend::rmsnorm(const float* x, const float* weight, float* y, int n, int dim, float eps) {
  pool_.parallel_for(n, [&](int64_t i, int) { ref::rmsnorm(x + i * dim, weight, y + i * dim, dim, eps); });
}

void CpuBackend::rope(float* x, int n, int n_heads, int head_dim, int pos0, const float* inv_freq,
                      RopeLayout layout) {
  pool_.parallel_for(n, [&](int64_t i, int) {
    ref::rope(x + i * n_heads * head_dim, n_heads, head_dim, pos0 + int(i), inv_freq, layout);
  });
}

void CpuBackend::kv_store(const KvLayerView& kv, const float* k, const float* v, int n, int pos0, int n_kv_heads,
                          int head_dim) {
  CHECK(pos0 >= 0 && pos0 + n <= kv.capacity);
  for (int i = 0; i < n; ++i)
    for (int h = 0; h < n_kv_heads; ++h) {
      const int64_t dst = (int64_t(h) * kv.capacity + pos0 + i) * head_dim;
      const int64_t src = (int64_t(i) * n_kv_heads + h) * head_dim;
      std::memcpy(kv.k + dst, k + src, size_t(head_dim) * 4);
      std::memcpy(kv.v + dst, v + src, size_t(head_dim) * 4);
    }
}

void CpuBackend::attention(const float* q, const KvLayerView& kv, float* out, int n, int pos0,
                           const AttentionShape& s) {
  const int group = s.n_heads / s.n_kv_heads;
  const float scale = float(1.0 / std::sqrt(double(s.head_dim)));
  const int64_t q_dim = int64_t(s.n_heads) * s.head_dim;
  for (int t = 0; t < pool_.size(); ++t) scratch(t, pos0 + n);
  pool_.parallel_for(int64_t(n) * s.n_heads, [&](int64_t task, int thread) {
    const int i = int(task / s.n_heads), h = int(task % s.n_heads);
    const int pos = pos0 + i;
    // HF sliding window: position pos sees keys p with pos - p < window.
    const int lo = s.window > 0 ? std::max(0, pos - s.window + 1) : 0;
    const int64_t head_off = int64_t(h / group) * kv.capacity * s.head_dim;
    cpu::attention_head(isa_, q + i * q_dim + int64_t(h) * s.head_dim, kv.k + head_off, kv.v + head_off, lo, pos,
                        s.head_dim, scale, scratch_[size_t(thread)].data(), out + i * q_dim + int64_t(h) * s.head_dim);
  });
}

void CpuBackend::swiglu(const float* gate, const float* up, float* out, int64_t n) { ref::swiglu(gate, up, out, n); }

void CpuBackend::add(float* x, const float* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] += y[i];
}

}  // namespace trapetum
