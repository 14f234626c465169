// The CUDA backend on a GPU: every codec's GEMV and prefill GEMM against float64, the other ops
// against the CPU backend, and whole models against the CPU's exact logits, with decode steps
// replayed from CUDA graphs. Skips where no GPU answers (TRAPETUM_REQUIRE_GPU=1 fails instead).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "backend/cpu_backend.h"
#include "backend/cuda_backend.h"
#include "common/model_util.h"
#include "common/test_util.h"
#include "kernels/ref/ops.h"
#include "quant/row.h"
#include "runtime/session.h"

namespace trapetum {
namespace {

std::unique_ptr<CudaBackend> gpu_or_skip(std::string* why, bool graphs = true) {
  CudaOptions o;
  o.graphs = graphs;
  auto b = CudaBackend::create(o);
  if (b.ok()) return std::move(b.value());
  *why = b.error();
  return nullptr;
}

#define GPU_OR_SKIP(var, ...)                                                    \
  std::string why_;                                                              \
  auto var = gpu_or_skip(&why_ __VA_OPT__(, ) __VA_ARGS__);                      \
  if (!var) {                                                                    \
    if (std::getenv("TRAPETUM_REQUIRE_GPU")) FAIL() << "no GPU: " << why_;       \
    GTEST_SKIP() << "no GPU: " << why_;                                          \
  }

// Device buffer from host floats, and back.
std::unique_ptr<Buffer> put(CudaBackend& b, const std::vector<float>& v) {
  auto buf = b.alloc(int64_t(v.size()));
  EXPECT_TRUE(buf.ok());
  b.to_device(v.data(), buf.value()->data(), int64_t(v.size()));
  return std::move(buf.value());
}
std::vector<float> get(CudaBackend& b, const float* p, int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  b.to_host(p, v.data(), n);
  return v;
}
// A device buffer of n floats, filled with NaN so unwritten outputs fail.
std::unique_ptr<Buffer> poisoned(CudaBackend& b, int64_t n) { return put(b, std::vector<float>(size_t(n), std::nanf(""))); }

constexpr DType kAll[] = {DType::kF32,   DType::kF16,   DType::kBF16,   DType::kQ8_0, DType::kQ4_0,
                          DType::kQ4_1,  DType::kQ4_K,  DType::kQ6_K,   DType::kQ8,   DType::kQ4G32,
                          DType::kQ4G64, DType::kQ4G128, DType::kCB4,   DType::kCB4S, DType::kT158,
                          DType::kT158P};

TEST(Cuda, MatmulOfEveryCodecMatchesFloat64) {
  GPU_OR_SKIP(gpu);
  std::mt19937 rng(std::random_device{}());
  for (DType t : kAll) {
    const Codec& c = codec(t);
    const int64_t cols = c.pads_tail || c.block_elems == 1 ? 333 : 2 * c.block_elems;
    const int64_t rows = 131;
    const std::vector<uint8_t> bytes = test::random_packed(t, rows, cols, rng);
    const TensorView w = test::view(t, {rows, cols}, bytes.data());
    auto dw = gpu->upload(w);
    ASSERT_TRUE(dw.ok()) << dw.error();
    for (int n : {1, 3, 8, 13, 40}) {
      SCOPED_TRACE(str_cat(dtype_name(t), " ", rows, "x", cols, " n ", n));
      const std::vector<float> x = test::random_floats(size_t(n * cols), rng);
      auto dx = put(*gpu, x);
      auto dy = poisoned(*gpu, n * rows);
      gpu->matmul(dw.value(), dx->data(), dy->data(), n);
      const std::vector<float> got = get(*gpu, dy->data(), n * rows);
      std::vector<float> want(size_t(n * rows)), row(static_cast<size_t>(cols));
      ref::matmul(w, x.data(), want.data(), n);
      for (int64_t r = 0; r < rows; ++r) {
        dequantize_row(w, r, row.data());
        for (int i = 0; i < n; ++i) {
          double abs_sum = 0;
          for (int64_t k = 0; k < cols; ++k) abs_sum += std::fabs(double(row[size_t(k)]) * x[size_t(i * cols + k)]);
          // GEMV (n <= 8) accumulates exact weights in float; prefill rounds weights and
          // activations to fp16 (2^-11 each) for the tensor cores.
          const double tol = n <= 8 ? 1e-5 * abs_sum + 1e-6 : 2e-3 * abs_sum + 1e-4;
          ASSERT_NEAR(got[size_t(i * rows + r)], want[size_t(i * rows + r)], tol) << "row " << r << " token " << i;
        }
      }
    }
  }
}

TEST(Cuda, OpsMatchTheCpuBackend) {
  GPU_OR_SKIP(gpu);
  CpuBackend cpu(1, CpuOptions{std::nullopt, cpu::ActMode::kFloat});
  std::mt19937 rng(std::random_device{}());
  auto close = [](const std::vector<float>& a, const std::vector<float>& b, float tol) {
    ASSERT_EQ(a.size(), b.size());
    for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], tol * (1 + std::fabs(b[i]))) << "at " << i;
  };
  const int n = 5, dim = 96;
  const std::vector<float> x = test::random_floats(n * dim, rng), y = test::random_floats(n * dim, rng);
  const std::vector<float> w = test::random_floats(dim, rng);
  {
    auto dx = put(*gpu, x), dw = put(*gpu, w), out = poisoned(*gpu, n * dim);
    gpu->rmsnorm(dx->data(), dw->data(), out->data(), n, dim, 1e-5f);
    std::vector<float> want(n * dim);
    cpu.rmsnorm(x.data(), w.data(), want.data(), n, dim, 1e-5f);
    close(get(*gpu, out->data(), n * dim), want, 1e-6f);
  }
  {
    auto dx = put(*gpu, x), dy = put(*gpu, y), out = poisoned(*gpu, n * dim);
    gpu->swiglu(dx->data(), dy->data(), out->data(), n * dim);
    std::vector<float> want(n * dim);
    cpu.swiglu(x.data(), y.data(), want.data(), n * dim);
    close(get(*gpu, out->data(), n * dim), want, 1e-6f);
    gpu->add(dx->data(), dy->data(), n * dim);
    gpu->add_bias(dx->data(), dy->data(), n, dim);
    std::vector<float> want2 = x;
    cpu.add(want2.data(), y.data(), n * dim);
    cpu.add_bias(want2.data(), y.data(), n, dim);
    close(get(*gpu, dx->data(), n * dim), want2, 1e-6f);
  }
  for (RopeLayout layout : {RopeLayout::kInterleaved, RopeLayout::kHalf}) {
    const int heads = 3, hd = 32;
    std::vector<float> q = test::random_floats(n * heads * hd, rng), inv(hd / 2);
    for (int i = 0; i < hd / 2; ++i) inv[size_t(i)] = std::pow(10000.0f, -2.0f * i / hd);
    auto dq = put(*gpu, q), dinv = put(*gpu, inv);
    gpu->rope(dq->data(), n, heads, hd, 1000, dinv->data(), layout);
    cpu.rope(q.data(), n, heads, hd, 1000, inv.data(), layout);
    close(get(*gpu, dq->data(), n * heads * hd), q, 1e-5f);
  }
}

TEST(Cuda, CachedAttentionMatchesTheCpuBackend) {
  GPU_OR_SKIP(gpu);
  CpuBackend cpu(1, CpuOptions{std::nullopt, cpu::ActMode::kFloat});
  std::mt19937 rng(std::random_device{}());
  struct Case {
    int heads, kv_heads, hd, window, prefix, n;
  };
  for (const Case& c : {Case{4, 2, 16, 0, 0, 7}, Case{8, 8, 64, 0, 300, 1}, Case{8, 2, 128, 0, 40, 20},
                        Case{4, 1, 64, 16, 50, 3}, Case{2, 2, 8, 0, 1000, 1}})
    for (KvType type : {KvType::kF32, KvType::kF16, KvType::kQ8}) {
      SCOPED_TRACE(str_cat("heads ", c.heads, "/", c.kv_heads, " hd ", c.hd, " window ", c.window, " prefix ",
                           c.prefix, " n ", c.n, " kv ", kv_type_name(type)));
      const int cap = c.prefix + c.n + 3, total = c.prefix + c.n;
      const int64_t cache_floats = (int64_t(c.kv_heads) * cap * kv_row_bytes(type, c.hd) + 3) / 4;
      const std::vector<float> k = test::random_floats(size_t(total * c.kv_heads * c.hd), rng);
      const std::vector<float> v = test::random_floats(size_t(total * c.kv_heads * c.hd), rng);
      const std::vector<float> q = test::random_floats(size_t(c.n * c.heads * c.hd), rng);
      std::vector<float> hk(static_cast<size_t>(cache_floats)), hv(static_cast<size_t>(cache_floats)), want(size_t(c.n * c.heads * c.hd));
      auto gk = poisoned(*gpu, cache_floats), gv = poisoned(*gpu, cache_floats);
      const KvLayerView hkv{hk.data(), hv.data(), cap, type}, gkv{gk->data(), gv->data(), cap, type};
      auto dk = put(*gpu, k), dv = put(*gpu, v), dq = put(*gpu, q);
      const AttentionShape shape{c.heads, c.kv_heads, c.hd, c.window};
      // The prefix in one store, the rest as the query tokens' own.
      cpu.kv_store(hkv, k.data(), v.data(), total, 0, c.kv_heads, c.hd);
      gpu->kv_store(gkv, dk->data(), dv->data(), total, 0, c.kv_heads, c.hd);
      cpu.attention(q.data(), hkv, want.data(), c.n, c.prefix, shape);
      auto out = poisoned(*gpu, int64_t(want.size()));
      gpu->attention(dq->data(), gkv, out->data(), c.n, c.prefix, shape);
      const std::vector<float> got = get(*gpu, out->data(), int64_t(want.size()));
      for (size_t i = 0; i < want.size(); ++i) ASSERT_NEAR(got[i], want[i], 2e-5f * (1 + std::fabs(want[i]))) << i;
    }
}

// Every fixture model: the GPU's logits next to the CPU's exact ones, and greedy decode through
// replayed graphs equal to decode without graphs.
TEST(Cuda, ModelsAgreeWithTheCpuAndGraphsReplayExactly) {
  GPU_OR_SKIP(gpu);
  std::string why2;
  auto plain = gpu_or_skip(&why2, /*graphs=*/false);
  ASSERT_TRUE(plain) << why2;
  namespace fs = std::filesystem;
  int checked = 0;
  for (const auto& e : fs::directory_iterator(test::test_data("models"))) {
    fs::path file;
    for (const auto& f : fs::directory_iterator(e.path()))
      if (f.path().extension() == ".gguf") file = f.path();
    if (file.empty()) continue;
    SCOPED_TRACE(file.string());
    auto model = test::load_model(file.string());
    ASSERT_TRUE(model);
    CpuBackend cpu(1, CpuOptions{std::nullopt, cpu::ActMode::kFloat});
    auto tc = Transformer::create(*model, cpu);
    auto tg = Transformer::create(*model, *gpu);
    auto tp = Transformer::create(*model, *plain);
    ASSERT_TRUE(tc.ok() && tg.ok() && tp.ok());
    std::vector<int32_t> ids;
    std::mt19937 rng(11);
    for (int i = 0; i < 24; ++i) ids.push_back(int32_t(rng() % uint32_t(model->config().vocab_size)));
    for (int batch : {24, 1}) {  // prefill (cuBLAS fp16) and one token at a time (GEMV, graphs)
      const std::vector<float> want = test::all_logits(*tc.value(), ids, batch);
      const std::vector<float> got = test::all_logits(*tg.value(), ids, batch);
      ASSERT_EQ(got.size(), want.size());
      double worst = 0, scale = 0;
      for (size_t i = 0; i < got.size(); ++i) {
        worst = std::max(worst, std::fabs(double(got[i]) - want[i]));
        scale = std::max(scale, std::fabs(double(want[i])));
      }
      EXPECT_LT(worst, (batch == 1 ? 1e-4 : 2e-2) * (1 + scale)) << "batch " << batch;
      if (batch == 1) {
        const std::vector<float> replay = test::all_logits(*tp.value(), ids, batch);
        EXPECT_EQ(replay, got) << "graph replay differs from direct launches";
      }
    }
    ++checked;
  }
  EXPECT_GT(checked, 0);
  EXPECT_GT(gpu->graph_replays(), 0);
  EXPECT_EQ(plain->graph_replays(), 0);
}

TEST(Cuda, UnknownDeviceIsAnError) {
  GPU_OR_SKIP(gpu);
  CudaOptions o;
  o.device = 1000;
  auto b = CudaBackend::create(o);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().find("1000"), std::string::npos) << b.error();
}

}  // namespace
}  // namespace trapetum
