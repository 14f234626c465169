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
#include "kernels/cpu/activation.h"
#include "kernels/cpu/add.h"
#include "kernels/cpu/attention.h"
#include "kernels/cpu/kv_convert.h"
#include "kernels/cpu/gemm_int8.h"
#include "kernels/cpu/matmul.h"
#include "kernels/cpu/norm.h"
#include "kernels/cpu/rope.h"

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

CpuBackend::CpuBackend(int n_threads, const CpuOptions& opts)
    : pool_(n_threads),
      isa_(opts.isa.value_or(cpu::detect_isa())),
      act_(opts.act),
      gemv_(cpu::gemv_table(isa_)),
      scratch_(size_t(pool_.size())) {}

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

// Up to 8 tokens (a decode step, or a batch of sessions' decode steps) each packed row is read
// once and applied to every token while it sits in L1; beyond that the prefill paths' tile
// unpacking pays for itself. Where the GEMV has a 16-row tile kernel (q4g64, q4g128 on
// AVX-512) it stays faster up to about 128 tokens, although it reads the weights once per 8
// (bench kernels, q4g64 11008x4096: 4.7 / 18.2 / 137 ms at 16 / 64 / 512 tokens, against the
// int8 GEMM's 16.1 / 25.0 / 108 ms).
bool CpuBackend::uses_gemv(DType dtype, int n) const {
  return n <= kGemvMaxTokens ||
         (n <= kGemvTileMaxTokens && act_ == cpu::ActMode::kInt8 && gemv_.int8t[int(dtype)] != nullptr);
}

void CpuBackend::prepare_input(const float* x, int n, int64_t k, bool int8) {
  if (gemv_in_.holds(x, n, k, int8)) return;
  gemv_in_.resize(n, k, int8);
  if (n == 1) {
    gemv_in_.fill(gemv_, x, 0);
  } else {
    pool_.parallel_for(n, [&](int64_t i, int) { gemv_in_.fill(gemv_, x + i * k, int(i)); });
  }
  gemv_in_.mark_filled(n);
}

void CpuBackend::matmul(const TensorView& w, const float* x, float* y, int n) {
  const int64_t rows = w.rows(), k = w.cols();
  if (uses_gemv(w.dtype, n)) {
    // Decode: every row streamed once per 8 tokens; a few balanced chunks per thread (16-row
    // multiples, so that the 16-row tiles are the same whatever the thread count).
    prepare_input(x, n, k, act_ == cpu::ActMode::kInt8);
    const int64_t want = int64_t(pool_.size()) * 4;
    const int64_t chunk = std::max<int64_t>(16, (rows + want - 1) / want + 15) / 16 * 16;
    pool_.parallel_for((rows + chunk - 1) / chunk, [&](int64_t task, int) {
      cpu::gemv_rows(gemv_, act_, w, gemv_in_, n, y, rows, task * chunk, std::min(rows, (task + 1) * chunk));
    });
    return;
  }
  if (act_ == cpu::ActMode::kInt8 && cpu::has_gemm_int8(isa_, w.dtype)) {
    // Prefill with int8 activations: each 16-row tile unpacked once, applied to all tokens.
    prepare_input(x, n, k, true);
    const int64_t floats = cpu::gemm_int8_scratch_bytes(gemv_in_.kpad()) / 4 + 16;
    for (int t = 0; t < pool_.size(); ++t) scratch(t, floats);
    pool_.parallel_for((rows + cpu::kGemmTileRows - 1) / cpu::kGemmTileRows, [&](int64_t task, int thread) {
      const int64_t r0 = task * cpu::kGemmTileRows, r1 = std::min(rows, r0 + cpu::kGemmTileRows);
      auto p = reinterpret_cast<uintptr_t>(scratch_[size_t(thread)].data());
      uint8_t* aligned = reinterpret_cast<uint8_t*>((p + 63) / 64 * 64);
      cpu::gemm_int8_tile(w, gemv_in_, n, y, rows, r0, r1, aligned);
    });
    return;
  }
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

namespace {
// Elementwise ops on fewer floats than this stay on the calling thread (a decode step's
// vectors): a parallel_for round trip would cost more than it saves.
constexpr int64_t kParallelMinFloats = int64_t(1) << 15;
constexpr int64_t kElementwiseChunk = int64_t(1) << 13;
}  // namespace

void CpuBackend::add_bias(float* y, const float* bias, int n, int len) {
  if (int64_t(n) * len < kParallelMinFloats) return cpu::add_bias(isa_, y, bias, n, len);
  pool_.parallel_for(n, [&](int64_t i, int) { cpu::add(isa_, y + i * len, bias, len); });
}

void CpuBackend::rmsnorm(const float* x, const float* weight, float* y, int n, int dim, float eps) {
  if (n == 1) return cpu::rmsnorm(isa_, x, weight, y, dim, eps);
  pool_.parallel_for(n, [&](int64_t i, int) { cpu::rmsnorm(isa_, x + i * dim, weight, y + i * dim, dim, eps); });
}

void CpuBackend::rope(float* x, int n, int n_heads, int head_dim, int pos0, const float* inv_freq,
                      RopeLayout layout) {
  for (int t = 0; t < pool_.size(); ++t) scratch(t, 2 * int64_t(head_dim));
  pool_.parallel_for(n, [&](int64_t i, int thread) {
    cpu::rope(isa_, x + i * n_heads * head_dim, n_heads, head_dim, pos0 + int(i), inv_freq, layout,
              scratch_[size_t(thread)].data());
  });
}

void CpuBackend::kv_store(const KvLayerView& kv, const float* k, const float* v, int n, int pos0, int n_kv_heads,
                          int head_dim) {
  CHECK(pos0 >= 0 && pos0 + n <= kv.capacity);
  const int64_t row = kv_row_bytes(kv.type, head_dim);
  for (int i = 0; i < n; ++i)
    for (int h = 0; h < n_kv_heads; ++h) {
      const int64_t dst = (int64_t(h) * kv.capacity + pos0 + i) * row;
      const int64_t src = (int64_t(i) * n_kv_heads + h) * head_dim;
      cpu::kv_encode_row(isa_, kv.type, k + src, head_dim, static_cast<char*>(kv.k) + dst);
      cpu::kv_encode_row(isa_, kv.type, v + src, head_dim, static_cast<char*>(kv.v) + dst);
    }
}

void CpuBackend::attention(const float* q, const KvLayerView& kv, float* out, int n, int pos0,
                           const AttentionShape& s) {
  CHECK(s.n_kv_heads > 0 && s.n_heads % s.n_kv_heads == 0);
  const int group = s.n_heads / s.n_kv_heads;
  // A task is (token, KV head, slice of its query heads): the slice shares each decoded K/V
  // row. Slices are halved only while there are fewer tasks than threads (decode).
  int slices = 1;
  while (int64_t(n) * s.n_kv_heads * slices < pool_.size() && group % (2 * slices) == 0) slices *= 2;
  const int per = group / slices;
  const float scale = float(1.0 / std::sqrt(double(s.head_dim)));
  const int64_t q_dim = int64_t(s.n_heads) * s.head_dim;
  const int64_t head_bytes = int64_t(kv.capacity) * kv_row_bytes(kv.type, s.head_dim);
  for (int t = 0; t < pool_.size(); ++t) scratch(t, cpu::attention_scratch_floats(per, pos0 + n, s.head_dim));
  pool_.parallel_for(int64_t(n) * s.n_kv_heads * slices, [&](int64_t task, int thread) {
    const int i = int(task / (int64_t(s.n_kv_heads) * slices));
    const int kvh = int(task / slices % s.n_kv_heads), h0 = kvh * group + int(task % slices) * per;
    const int pos = pos0 + i;
    // HF sliding window: position pos sees keys p with pos - p < window.
    const int lo = s.window > 0 ? std::max(0, pos - s.window + 1) : 0;
    const cpu::KvHeadRows rows{static_cast<const char*>(kv.k) + kvh * head_bytes,
                               static_cast<const char*>(kv.v) + kvh * head_bytes, kv.type};
    const int64_t off = i * q_dim + int64_t(h0) * s.head_dim;
    cpu::attention_group(isa_, q + off, per, rows, lo, pos, s.head_dim, scale, scratch_[size_t(thread)].data(),
                         out + off);
  });
}

void CpuBackend::swiglu(const float* gate, const float* up, float* out, int64_t n) {
  if (n < kParallelMinFloats) return cpu::swiglu(isa_, gate, up, out, n);
  pool_.parallel_for((n + kElementwiseChunk - 1) / kElementwiseChunk, [&](int64_t c, int) {
    const int64_t a = c * kElementwiseChunk, m = std::min(kElementwiseChunk, n - a);
    cpu::swiglu(isa_, gate + a, up + a, out + a, m);
  });
}

void CpuBackend::add(float* x, const float* y, int64_t n) {
  if (n < kParallelMinFloats) return cpu::add(isa_, x, y, n);
  pool_.parallel_for((n + kElementwiseChunk - 1) / kElementwiseChunk, [&](int64_t c, int) {
    const int64_t a = c * kElementwiseChunk;
    cpu::add(isa_, x + a, y + a, std::min(kElementwiseChunk, n - a));
  });
}

}  // namespace trapetum
