// CudaBackend: weights packed per device layout, fused GEMV for decode, dequantized fp16
// tiles + cuBLAS for prefill, and decode steps captured once as CUDA graphs.
#include "backend/cuda_backend.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstring>

#include "core/check.h"
#include "kernels/cuda/pack.h"

namespace trapetum {
namespace {

// Device memory of a CudaBackend; freeing it drops the backend's graphs, which may hold it.
class CudaBuffer final : public Buffer {
 public:
  CudaBuffer(CudaBackend* owner, void* p, int64_t n) : owner_(owner), p_(p), n_(n) {}
  ~CudaBuffer() override {
    owner_->on_free(n_ * 4);
    cuda::device_free(p_);
  }
  float* data() override { return static_cast<float*>(p_); }
  int64_t size() const override { return n_; }

 private:
  CudaBackend* owner_;
  void* p_;
  int64_t n_;
};

int64_t align256(int64_t n) { return (n + 255) / 256 * 256; }

// Prefill tiles hold at most this many fp16 weights (64 MiB).
constexpr int64_t kTileElems = int64_t(32) << 20;
// Matmuls of at most this many tokens take the fused GEMV.
constexpr int kGemvMaxTokens = 8;

}  // namespace

Result<std::unique_ptr<CudaBackend>> CudaBackend::create(const CudaOptions& o) {
  std::unique_ptr<CudaBackend> b(new CudaBackend());
  b->opts_ = o;
  TRY(b->props_, cuda::open_device(o.device));
  TRY(b->stream_, cuda::stream_create());
  TRY(b->blas_, cuda::blas_create(b->stream_));
  return b;
}

std::string CudaBackend::describe() const {
  return str_cat("cuda: ", props_.name, " (sm_", props_.sm, ", ", props_.total_bytes >> 20, " MiB)");
}

CudaBackend::~CudaBackend() {
  if (stream_) cuda::stream_sync(stream_);
  forget_graphs();
  for (void* p : weight_allocs_) cuda::device_free(p);
  for (auto& [p, n] : scratch_) cuda::device_free(p);
  for (auto& [p, n] : pinned_) cuda::pinned_free(p);
  cuda::blas_destroy(blas_);
  cuda::stream_destroy(stream_);
}

void CudaBackend::count_alloc(int64_t bytes) {
  allocated_bytes_ += bytes;
  peak_bytes_ = std::max(peak_bytes_, allocated_bytes_);
}

void CudaBackend::on_free(int64_t bytes) {
  forget_graphs();
  allocated_bytes_ -= bytes;
}

Result<double> CudaBackend::copy_bandwidth_gb_s(int64_t bytes, int reps) {
  TRY(void* a, cuda::device_alloc(bytes));
  auto b = cuda::device_alloc(bytes);
  if (!b.ok()) {
    cuda::device_free(a);
    return std::move(b).take_error();
  }
  cuda::Event e0 = nullptr, e1 = nullptr;
  auto ev0 = cuda::event_create(), ev1 = cuda::event_create();
  std::vector<double> runs;
  if (ev0.ok() && ev1.ok()) {
    e0 = ev0.value();
    e1 = ev1.value();
    cuda::copy_d2d(b.value(), a, bytes, stream_);  // warm-up
    for (int i = 0; i < std::max(1, reps); ++i) {
      cuda::event_record(e0, stream_);
      cuda::copy_d2d(i % 2 ? a : b.value(), i % 2 ? b.value() : a, bytes, stream_);
      cuda::event_record(e1, stream_);
      runs.push_back(2.0 * double(bytes) / (double(cuda::event_ms(e0, e1)) * 1e6));
    }
  }
  cuda::event_destroy(e0);
  cuda::event_destroy(e1);
  cuda::device_free(a);
  cuda::device_free(b.value());
  if (runs.empty()) return make_error("CUDA: cannot create timing events");
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

void CudaBackend::forget_graphs() {
  for (auto& [key, g] : graphs_) cuda::graph_destroy(g.exec);
  graphs_.clear();
  seen_.clear();
}

// Scratch grows between steps only: a captured step ran once before with the same sizes, and
// growing drops the graphs, which may hold the old address. Running out of memory here is
// fatal (ops return nothing), so the message says which buffer.
void* CudaBackend::grow(std::pair<void*, int64_t>& slot, int64_t bytes, bool pinned_host) {
  auto& [p, have] = slot;
  if (have >= bytes) return p;
  CHECK(!capturing_);
  forget_graphs();
  cuda::stream_sync(stream_);
  const int64_t want = std::max<int64_t>(bytes, 4096);
  if (pinned_host) {
    cuda::pinned_free(p);
  } else {
    cuda::device_free(p);
    allocated_bytes_ -= have;
  }
  p = nullptr;
  have = 0;
  auto r = pinned_host ? cuda::pinned_alloc(want) : cuda::device_alloc(want);
  if (!r.ok()) {
    std::fprintf(stderr, "trapetum: %s (%s scratch)\n", r.error().c_str(), pinned_host ? "pinned" : "device");
    std::abort();
  }
  p = r.value();
  have = want;
  if (!pinned_host) count_alloc(want);
  return p;
}

void* CudaBackend::scratch(int slot, int64_t bytes) { return grow(scratch_[size_t(slot)], bytes, false); }

void* CudaBackend::pinned(int slot, int64_t bytes) { return grow(pinned_[size_t(slot)], bytes, true); }

Result<std::unique_ptr<Buffer>> CudaBackend::alloc(int64_t n_floats) {
  if (n_floats < 0) return make_error("cuda backend: negative allocation of ", n_floats, " floats");
  int64_t free_b = 0, total_b = 0;
  TRY_STATUS(cuda::mem_info(&free_b, &total_b));
  if (n_floats * 4 > free_b)
    return make_error("cuda backend: cannot allocate ", n_floats * 4 / (1 << 20), " MiB: only ", free_b / (1 << 20),
                      " MiB of device memory are free on ", props_.name);
  TRY(void* p, cuda::device_alloc(n_floats * 4));
  count_alloc(n_floats * 4);
  return std::unique_ptr<Buffer>(new CudaBuffer(this, p, n_floats));
}

Result<TensorView> CudaBackend::upload(const TensorView& w) { return upload_copy(w); }

void CudaBackend::free_uploads() {
  sync();
  forget_graphs();
  for (void* p : weight_allocs_) cuda::device_free(p);
  weight_allocs_.clear();
  dev_weights_.clear();
  allocated_bytes_ -= weight_alloc_bytes_;
  weight_alloc_bytes_ = 0;
  weight_bytes_ = 0;
}

Result<TensorView> CudaBackend::upload_copy(const TensorView& w) {
  if (!w.data) return w;
  TensorView d = w;
  d.device = Device::kCuda;
  d.outliers = {};
  if (w.shape.size() == 1) {
    if (w.dtype != DType::kF32)
      return make_error("cuda backend: 1-D tensor of ", w.cols(), " ", dtype_name(w.dtype), " values; expected f32");
    TRY(void* p, cuda::device_alloc(w.cols() * 4));
    weight_allocs_.push_back(p);
    cuda::copy_h2d(p, w.data, w.cols() * 4, stream_);
    weight_bytes_ += w.cols() * 4;
    count_alloc(w.cols() * 4);
    weight_alloc_bytes_ += w.cols() * 4;
    d.data = p;
  } else {
    auto packed = cuda::pack_weight(w);
    if (!packed.ok())
      return make_error("cuda backend: weight (", w.rows(), " x ", w.cols(), ") ", packed.error());
    const cuda::PackedWeight& pw = packed.value();
    // One allocation per weight: codes, scales, codebooks and outliers, each 256-byte aligned.
    const int64_t parts[] = {int64_t(pw.codes.size()), int64_t(pw.scales.size()), int64_t(pw.books.size() * 2),
                             int64_t(pw.o_row_ptr.size() * 4), int64_t(pw.o_cols.size() * 4),
                             int64_t(pw.o_vals.size() * 2)};
    const void* srcs[] = {pw.codes.data(), pw.scales.data(), pw.books.data(),
                          pw.o_row_ptr.data(), pw.o_cols.data(), pw.o_vals.data()};
    int64_t total = 0;
    for (int64_t n : parts) total += align256(n);
    auto mem = cuda::device_alloc(total);
    if (!mem.ok())
      return make_error("cuda backend: weight (", w.rows(), " x ", w.cols(), ") ", dtype_name(w.dtype), ": ",
                        mem.error(), " (", weight_bytes_ >> 20, " MiB of weights already on ", props_.name, ")");
    weight_allocs_.push_back(mem.value());
    auto* base = static_cast<uint8_t*>(mem.value());
    uint8_t* at[6];
    int64_t off = 0;
    for (int i = 0; i < 6; ++i) {
      at[i] = base + off;
      cuda::copy_h2d(at[i], srcs[i], parts[i], stream_);
      off += align256(parts[i]);
    }
    cuda::DevWeight dw = pw.host_view();
    dw.codes = at[0];
    dw.scales = at[1];
    dw.books = pw.books.empty() ? nullptr : reinterpret_cast<const uint16_t*>(at[2]);
    if (dw.nnz) {
      dw.o_row_ptr = reinterpret_cast<const uint32_t*>(at[3]);
      dw.o_cols = reinterpret_cast<const uint32_t*>(at[4]);
      dw.o_vals = reinterpret_cast<const uint16_t*>(at[5]);
    }
    weight_bytes_ += pw.device_bytes();
    count_alloc(total);
    weight_alloc_bytes_ += total;
    dev_weights_[at[0]] = dw;
    d.data = at[0];
    cuda::stream_sync(stream_);  // the packed host copy is freed on return
  }
  return d;
}

const cuda::DevWeight& CudaBackend::dev_weight(const TensorView& w) const {
  auto it = dev_weights_.find(w.data);
  CHECK(it != dev_weights_.end());  // every weight a matmul sees was uploaded here
  return it->second;
}

void CudaBackend::to_host(const float* src, float* dst, int64_t n) {
  if (in_step_) {
    // Staged in pinned memory; copied to dst once the step has run (finish_host_copies).
    if (!capturing_ && copies_.empty()) pinned(kPinLogits, n * 4);
    CHECK(pinned_[kPinLogits].second >= (logits_used_ + n) * 4);
    cuda::copy_d2h(static_cast<float*>(pinned_[kPinLogits].first) + logits_used_, src, n * 4, stream_);
    copies_.push_back({dst, logits_used_, n});
    logits_used_ += n;
    return;
  }
  auto* staging = static_cast<float*>(pinned(kPinLogits, n * 4));
  cuda::copy_d2h(staging, src, n * 4, stream_);
  cuda::stream_sync(stream_);
  std::memcpy(dst, staging, size_t(n) * 4);
}

void CudaBackend::to_device(const float* src, float* dst, int64_t n) {
  cuda::copy_h2d(dst, src, n * 4, stream_);
  cuda::stream_sync(stream_);
}

void CudaBackend::sync() { cuda::stream_sync(stream_); }

void CudaBackend::finish_host_copies() {
  const auto* staging = static_cast<const float*>(pinned_[kPinLogits].first);
  for (const HostCopy& c : copies_) std::memcpy(c.dst, staging + c.offset, size_t(c.n) * 4);
  copies_.clear();
}

void CudaBackend::run_step(const StepInputs& in, const std::function<void()>& ops) {
  CHECK(!in_step_);
  // pos0 and the ids go through pinned memory and one copy inside the step, so a captured
  // graph reads each step's values when replayed.
  const int64_t bytes = int64_t(in.n + 1) * 4;
  auto* host = static_cast<int32_t*>(pinned(kPinStep, std::max<int64_t>(bytes, 4096)));
  void* dev = scratch(kStep, std::max<int64_t>(bytes, 4096));
  host[0] = in.pos0;
  std::memcpy(host + 1, in.tokens, size_t(in.n) * 4);
  in_step_ = true;
  step_ = in;
  copies_.clear();
  logits_used_ = 0;
  const GraphKey key{in.state, in.cache, in.logits, in.all_logits};
  auto finish = [&] {
    cuda::stream_sync(stream_);
    finish_host_copies();
    in_step_ = false;
  };
  if (opts_.graphs && in.n == 1) {
    if (auto it = graphs_.find(key); it != graphs_.end()) {
      cuda::graph_launch(it->second.exec, stream_);
      ++graph_replays_;
      copies_ = it->second.copies;
      return finish();
    }
    // The first one-token step of a key runs directly (sizing every scratch buffer); the
    // second is captured.
    int& seen = seen_[key];
    if (seen++ == 1) {
      capturing_ = true;
      cuda::capture_begin(stream_);
      cuda::copy_h2d(dev, host, bytes, stream_);
      ops();
      auto exec = cuda::capture_end(stream_);
      capturing_ = false;
      if (exec.ok()) {
        if (graphs_.size() >= 16) forget_graphs();  // bound the cache; recaptured on demand
        graphs_[key] = {exec.value(), copies_};
        cuda::graph_launch(exec.value(), stream_);
        return finish();
      }
      std::fprintf(stderr, "trapetum: warning: %s; decode runs without CUDA graphs\n", exec.error().c_str());
      opts_.graphs = false;
      copies_.clear();
      logits_used_ = 0;
    }
  }
  cuda::copy_h2d(dev, host, bytes, stream_);
  ops();
  finish();
}

const int* CudaBackend::device_pos(int pos0) {
  // The step's own position is read from device memory (a captured graph replays it); the other
  // sequences of a batched step (never captured: n > 1) upload theirs.
  if (in_step_ && pos0 == step_.pos0) return static_cast<const int*>(scratch_[kStep].first);
  CHECK(!capturing_);
  int* p = static_cast<int*>(scratch(kPos, 4));
  cuda::copy_h2d(p, &pos0, 4, stream_);
  cuda::stream_sync(stream_);
  return p;
}

void CudaBackend::embed(const TensorView& table, const int32_t* ids, int n, float* out) {
  const int32_t* dev_ids;
  if (in_step_) {
    CHECK(n == step_.n);
    dev_ids = static_cast<const int32_t*>(scratch_[kStep].first) + 1;
  } else {
    auto* p = static_cast<int32_t*>(scratch(kIds, int64_t(n) * 4));
    cuda::copy_h2d(p, ids, int64_t(n) * 4, stream_);
    cuda::stream_sync(stream_);
    dev_ids = p;
  }
  cuda::embed(dev_weight(table), dev_ids, n, out, stream_);
}

void CudaBackend::matmul(const TensorView& w, const float* x, float* y, int n) { matmul_dev(dev_weight(w), x, y, n); }

void CudaBackend::matmul_dev(const cuda::DevWeight& dw, const float* x, float* y, int n) {
  if (n <= kGemvMaxTokens) return cuda::gemv(dw, x, y, n, stream_);
  // Prefill: activations to fp16 once, then fp16 tiles of dequantized rows through cuBLAS.
  auto* xh = static_cast<uint16_t*>(scratch(kActF16, int64_t(n) * dw.cols * 2));
  cuda::f32_to_f16(x, xh, int64_t(n) * dw.cols, stream_);
  const int64_t tile_rows = std::min<int64_t>(dw.rows, std::max<int64_t>(64, kTileElems / dw.cols));
  auto* tile = static_cast<uint16_t*>(scratch(kTile, tile_rows * dw.cols * 2));
  for (int64_t r0 = 0; r0 < dw.rows; r0 += tile_rows) {
    const int64_t r1 = std::min(dw.rows, r0 + tile_rows);
    cuda::dequant_f16(dw, r0, r1, tile, stream_);
    cuda::gemm_f16(blas_, tile, xh, y + r0, int(r1 - r0), n, int(dw.cols), dw.rows);
  }
}

void CudaBackend::add_bias(float* y, const float* bias, int n, int len) { cuda::add_bias(y, bias, n, len, stream_); }

void CudaBackend::rmsnorm(const float* x, const float* weight, float* y, int n, int dim, float eps) {
  cuda::rmsnorm(x, weight, y, n, dim, eps, stream_);
}

void CudaBackend::rope(float* x, int n, int n_heads, int head_dim, int pos0, const float* inv_freq,
                       RopeLayout layout) {
  cuda::rope(x, n, n_heads, head_dim, device_pos(pos0), inv_freq, layout == RopeLayout::kInterleaved, stream_);
}

namespace {
cuda::KvDev kv_dev(const KvLayerView& kv, int head_dim) {
  return {kv.k, kv.v, kv.capacity, kv.type, kv_row_bytes(kv.type, head_dim)};
}
}  // namespace

void CudaBackend::kv_store(const KvLayerView& kv, const float* k, const float* v, int n, int pos0, int n_kv_heads,
                           int head_dim) {
  CHECK(pos0 >= 0 && pos0 + n <= kv.capacity);
  cuda::kv_store(kv_dev(kv, head_dim), k, v, n, device_pos(pos0), n_kv_heads, head_dim, stream_);
}

void CudaBackend::attention(const float* q, const KvLayerView& kv, float* out, int n, int pos0,
                            const AttentionShape& s) {
  CHECK(s.n_kv_heads > 0 && s.n_heads % s.n_kv_heads == 0);
  CHECK(s.head_dim <= 256);
  const cuda::AttentionDims d{s.n_heads, s.n_kv_heads, s.head_dim, s.window,
                              float(1.0 / std::sqrt(double(s.head_dim)))};
  const int splits = cuda::attention_splits(n, kv.capacity);
  auto* part = static_cast<float*>(scratch(kAttn, cuda::attention_scratch_floats(n, d, splits) * 4));
  cuda::attention(q, kv_dev(kv, s.head_dim), out, n, device_pos(pos0), d, splits, part, stream_);
}

void CudaBackend::swiglu(const float* gate, const float* up, float* out, int64_t n) {
  cuda::swiglu(gate, up, out, n, stream_);
}

void CudaBackend::add(float* x, const float* y, int64_t n) { cuda::add(x, y, n, stream_); }

}  // namespace trapetum
