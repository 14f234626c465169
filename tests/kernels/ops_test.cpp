// CPU attention, RoPE layouts and reference ops: properties and agreement with plain loops.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "backend/cpu_backend.h"
#include "common/test_util.h"
#include "kernels/cpu/attention.h"
#include "kernels/ref/ops.h"

namespace trapetum {
namespace {

TEST(CpuAttention, MatchesReference) {
  // f32 rows, every ISA, query groups of 1 to 3 heads sharing the KV head; ranges that cross
  // a chunk boundary.
  std::mt19937 rng(std::random_device{}());
  for (cpu::Isa isa : cpu::supported_isas())
    for (int hd : {8, 16, 64, 40})
      for (int group : {1, 3}) {
        const int n = 29 + int(rng() % 100);
        auto q = test::random_floats(size_t(group * hd), rng);
        auto k = test::random_floats(size_t(n * hd), rng);
        auto v = test::random_floats(size_t(n * hd), rng);
        for (int lo : {0, 5}) {
          std::vector<float> s1(static_cast<size_t>(n)), want(static_cast<size_t>(group * hd));
          for (int g = 0; g < group; ++g)
            ref::attention_head(q.data() + g * hd, k.data(), v.data(), lo, n - 1, hd, 0.3f, s1.data(),
                                want.data() + g * hd);
          std::vector<float> scratch(size_t(cpu::attention_scratch_floats(group, n - lo, hd)));
          std::vector<float> got(size_t(group * hd), std::numeric_limits<float>::quiet_NaN());
          cpu::attention_group(isa, q.data(), group, cpu::KvHeadRows{k.data(), v.data(), KvType::kF32}, lo, n - 1, hd,
                               0.3f, scratch.data(), got.data());
          for (size_t d = 0; d < got.size(); ++d)
            ASSERT_NEAR(got[d], want[d], 1e-5) << cpu::isa_name(isa) << " hd " << hd << " group " << group << " d " << d;
        }
      }
}

TEST(Rope, LayoutsAgreeUnderThePermutation) {
  // GGUF's interleaved layout is HF's rotate-half layout with Q/K rows permuted: element
  // (i, i + d/2) of a head maps to (2i, 2i + 1).
  std::mt19937 rng(std::random_device{}());
  const int heads = 3, hd = 16, half = hd / 2;
  auto x = test::random_floats(size_t(heads * hd), rng);
  std::vector<float> inv(static_cast<size_t>(half));
  for (int i = 0; i < half; ++i) inv[size_t(i)] = float(std::pow(10000.0, -2.0 * i / hd));
  std::vector<float> inter(x.size());
  for (int h = 0; h < heads; ++h)
    for (int i = 0; i < half; ++i) {
      inter[size_t(h * hd + 2 * i)] = x[size_t(h * hd + i)];
      inter[size_t(h * hd + 2 * i + 1)] = x[size_t(h * hd + i + half)];
    }
  ref::rope(x.data(), heads, hd, 37, inv.data(), RopeLayout::kHalf);
  ref::rope(inter.data(), heads, hd, 37, inv.data(), RopeLayout::kInterleaved);
  for (int h = 0; h < heads; ++h)
    for (int i = 0; i < half; ++i) {
      EXPECT_FLOAT_EQ(inter[size_t(h * hd + 2 * i)], x[size_t(h * hd + i)]);
      EXPECT_FLOAT_EQ(inter[size_t(h * hd + 2 * i + 1)], x[size_t(h * hd + i + half)]);
    }
}

TEST(Rope, PositionZeroIsIdentityAndNormIsKept) {
  std::mt19937 rng(std::random_device{}());
  const int hd = 8;
  auto x = test::random_floats(size_t(hd), rng);
  std::vector<float> inv = {1.0f, 0.1f, 0.01f, 0.001f};
  auto y = x;
  ref::rope(y.data(), 1, hd, 0, inv.data(), RopeLayout::kHalf);
  for (int i = 0; i < hd; ++i) EXPECT_FLOAT_EQ(y[size_t(i)], x[size_t(i)]);
  ref::rope(y.data(), 1, hd, 1000, inv.data(), RopeLayout::kHalf);
  double n0 = 0, n1 = 0;
  for (int i = 0; i < hd; ++i) n0 += x[size_t(i)] * x[size_t(i)], n1 += y[size_t(i)] * y[size_t(i)];
  EXPECT_NEAR(n0, n1, 1e-4 * n0);
}

TEST(RefOps, RmsnormAndSwiglu) {
  const float x[4] = {1, -2, 3, -4}, w[4] = {1, 1, 2, 0.5f};
  float y[4];
  ref::rmsnorm(x, w, y, 4, 0.0f);
  const float inv = 1.0f / std::sqrt(30.0f / 4);
  EXPECT_NEAR(y[2], 2 * 3 * inv, 1e-6);
  EXPECT_NEAR(y[3], 0.5f * -4 * inv, 1e-6);
  const float g[2] = {0.0f, 2.0f}, u[2] = {5.0f, 3.0f};
  float o[2];
  ref::swiglu(g, u, o, 2);
  EXPECT_FLOAT_EQ(o[0], 0.0f);
  EXPECT_NEAR(o[1], 2.0f / (1.0f + std::exp(-2.0f)) * 3.0f, 1e-6);
}

TEST(CpuBackend, SlidingWindowLimitsAttention) {
  // With window 1 every token attends only to itself, so the output is its own value row.
  CpuBackend b(2);
  std::mt19937 rng(std::random_device{}());
  const int n = 6, hd = 16, cap = 8;
  auto q = test::random_floats(size_t(n * hd), rng);
  auto k = test::random_floats(size_t(n * hd), rng);
  auto v = test::random_floats(size_t(n * hd), rng);
  std::vector<float> kc(static_cast<size_t>(cap * hd)), vc(static_cast<size_t>(cap * hd));
  KvLayerView kv{kc.data(), vc.data(), cap};
  b.kv_store(kv, k.data(), v.data(), n, 0, 1, hd);
  std::vector<float> out(size_t(n * hd), std::numeric_limits<float>::quiet_NaN());
  b.attention(q.data(), kv, out.data(), n, 0, AttentionShape{1, 1, hd, 1});
  for (size_t i = 0; i < out.size(); ++i) EXPECT_NEAR(out[i], v[i], 1e-6);
}

}  // namespace
}  // namespace trapetum
