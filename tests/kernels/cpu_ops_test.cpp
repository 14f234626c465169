// Vectorized CPU ops (exp, rmsnorm, rope, swiglu, softmax, add, add_bias) against the scalar
// reference for every ISA this CPU runs, on fresh random awkward sizes. Outputs are poisoned
// with NaN first and followed by a NaN guard that must survive.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "common/test_util.h"
#include "kernels/cpu/activation.h"
#include "kernels/cpu/add.h"
#include "kernels/cpu/norm.h"
#include "kernels/cpu/rope.h"
#include "kernels/cpu/softmax.h"
#include "kernels/cpu/vec_math.h"
#include "kernels/ref/ops.h"

namespace trapetum {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr size_t kGuard = 17;

// n values and a NaN guard after them.
std::vector<float> poisoned(size_t n) { return std::vector<float>(n + kGuard, kNaN); }

void expect_guard(const std::vector<float>& v, size_t n, const std::string& what) {
  for (size_t i = n; i < v.size(); ++i) ASSERT_TRUE(std::isnan(v[i])) << what << ": wrote past the end at " << i;
}

// |got - want| <= rel * |want| + abs, NaN never allowed.
void expect_close(const float* got, const float* want, size_t n, double rel, double abs, const std::string& what) {
  for (size_t i = 0; i < n; ++i)
    ASSERT_LE(std::fabs(double(got[i]) - double(want[i])), rel * std::fabs(double(want[i])) + abs)
        << what << " at " << i << ": got " << got[i] << " want " << want[i];
}

// vexp as the kernels compile it: one copy per ISA at its native width.
template <int N>
TRAPETUM_INLINE void exp_body(const float* x, float* y, int64_t n) {
  for (int64_t i = 0; i < n; i += N) cpu::vstore<N>(y + i, cpu::vexp<N>(cpu::vload<N>(x + i)));
}
void exp_generic(const float* x, float* y, int64_t n) { exp_body<cpu::kLanesGeneric>(x, y, n); }
TRAPETUM_TARGET_AVX2 void exp_avx2(const float* x, float* y, int64_t n) { exp_body<cpu::kLanesAvx2>(x, y, n); }
TRAPETUM_TARGET_AVX512 void exp_avx512(const float* x, float* y, int64_t n) { exp_body<cpu::kLanesAvx512>(x, y, n); }
void exp_isa(cpu::Isa isa, const float* x, float* y, int64_t n) {
  if (isa == cpu::Isa::kAvx512) return exp_avx512(x, y, n);
  if (isa == cpu::Isa::kAvx2) return exp_avx2(x, y, n);
  exp_generic(x, y, n);
}

TEST(CpuVecMath, ExpWithinOneUlpOverTheWholeRange) {
  // Every input the ops can produce: a dense grid over [-104, 89] (below: 0, above: inf), random
  // points, and the special values.
  std::mt19937 rng(std::random_device{}());
  std::uniform_real_distribution<float> any(-110.0f, 95.0f);
  std::vector<float> x;
  for (int i = 0; i < (1 << 20); ++i) x.push_back(-104.0f + 193.0f * float(i) / float(1 << 20));
  for (int i = 0; i < (1 << 16); ++i) x.push_back(any(rng));
  for (float s : {0.0f, -0.0f, 1e-30f, -1e-30f, 88.72f, 88.73f, -87.33f, -103.97f, -104.1f, 1e6f, -1e6f,
                  std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(), kNaN})
    x.push_back(s);
  while (x.size() % 16) x.push_back(0.5f);
  for (cpu::Isa isa : cpu::supported_isas()) {
    std::vector<float> y(x.size(), kNaN);
    exp_isa(isa, x.data(), y.data(), int64_t(x.size()));
    double worst = 0;
    for (size_t i = 0; i < x.size(); ++i) {
      const double want = std::exp(double(x[i]));
      if (std::isnan(x[i])) {
        ASSERT_TRUE(std::isnan(y[i])) << cpu::isa_name(isa);
        continue;
      }
      if (want > double(std::numeric_limits<float>::max())) {
        ASSERT_TRUE(std::isinf(y[i])) << cpu::isa_name(isa) << " exp(" << x[i] << ") = " << y[i];
        continue;
      }
      if (want < double(std::numeric_limits<float>::min())) {
        // Subnormal results: within one subnormal step.
        ASSERT_LE(std::fabs(double(y[i]) - want), double(std::numeric_limits<float>::denorm_min()))
            << cpu::isa_name(isa) << " exp(" << x[i] << ")";
        continue;
      }
      worst = std::max(worst, std::fabs(double(y[i]) - want) / want);
    }
    // One ulp of a float is at most 2^-23 = 1.19e-7 relative.
    EXPECT_LE(worst, 1.2e-7) << cpu::isa_name(isa);
  }
}

TEST(CpuOps, RmsnormMatchesReference) {
  std::mt19937 rng(std::random_device{}());
  for (cpu::Isa isa : cpu::supported_isas())
    for (int64_t dim : {1, 7, 16, 33, 100, 257, 2048 + 5}) {
      const float eps = std::uniform_real_distribution<float>(1e-6f, 1e-4f)(rng);
      auto x = test::random_floats(size_t(dim), rng, 3.0f), w = test::random_floats(size_t(dim), rng);
      std::vector<float> want(static_cast<size_t>(dim));
      ref::rmsnorm(x.data(), w.data(), want.data(), dim, eps);
      auto got = poisoned(size_t(dim));
      cpu::rmsnorm(isa, x.data(), w.data(), got.data(), dim, eps);
      const std::string what = std::string(cpu::isa_name(isa)) + " dim " + std::to_string(dim);
      // The scale agrees to the last bit or so (both sum in double); then two float roundings.
      expect_close(got.data(), want.data(), size_t(dim), 1e-6, 0, what);
      expect_guard(got, size_t(dim), what);
      // In place, as the backend may call it.
      auto in_place = x;
      cpu::rmsnorm(isa, in_place.data(), w.data(), in_place.data(), dim, eps);
      expect_close(in_place.data(), want.data(), size_t(dim), 1e-6, 0, what + " in place");
    }
}

TEST(CpuOps, RopeMatchesReferenceInBothLayouts) {
  std::mt19937 rng(std::random_device{}());
  for (cpu::Isa isa : cpu::supported_isas())
    for (int hd : {2, 6, 16, 34, 64, 96, 128})
      for (RopeLayout layout : {RopeLayout::kHalf, RopeLayout::kInterleaved}) {
        const int heads = 1 + int(rng() % 5), half = hd / 2;
        const int pos = int(rng() % 100000);
        std::vector<float> inv(static_cast<size_t>(half));
        for (int i = 0; i < half; ++i) inv[size_t(i)] = float(std::pow(10000.0, -2.0 * i / hd));
        const size_t n = size_t(heads * hd);
        auto want = test::random_floats(n, rng);
        auto got = poisoned(n);
        std::copy(want.begin(), want.end(), got.begin());
        ref::rope(want.data(), heads, hd, pos, inv.data(), layout);
        std::vector<float> scratch(size_t(2 * hd), kNaN);
        cpu::rope(isa, got.data(), heads, hd, pos, inv.data(), layout, scratch.data());
        const std::string what = std::string(cpu::isa_name(isa)) + " hd " + std::to_string(hd) +
                                 (layout == RopeLayout::kHalf ? " half" : " interleaved");
        // Same cos/sin and the same products; at most a fused multiply-add differs.
        expect_close(got.data(), want.data(), n, 1e-6, 1e-6, what);
        expect_guard(got, n, what);
      }
}

TEST(CpuOps, SwigluMatchesReference) {
  std::mt19937 rng(std::random_device{}());
  for (cpu::Isa isa : cpu::supported_isas())
    for (int64_t n : {1, 15, 16, 17, 100, 1000, 4099}) {
      // Gates up to |g| ~ 40 cover the sigmoid's whole range; a few saturate exp either way.
      auto g = test::random_floats(size_t(n), rng, 8.0f), u = test::random_floats(size_t(n), rng);
      if (n > 4) g[0] = 95.0f, g[1] = -95.0f, g[2] = 0.0f, g[3] = -1e-30f;
      std::vector<float> want(static_cast<size_t>(n));
      ref::swiglu(g.data(), u.data(), want.data(), n);
      auto got = poisoned(size_t(n));
      cpu::swiglu(isa, g.data(), u.data(), got.data(), n);
      const std::string what = std::string(cpu::isa_name(isa)) + " n " + std::to_string(n);
      // exp within 1 ulp; the sigmoid's sensitivity to it is at most 1; three more roundings.
      expect_close(got.data(), want.data(), size_t(n), 1e-6, 1e-37, what);
      expect_guard(got, size_t(n), what);
      auto in_place = g;  // out aliasing gate, as the forward pass calls it
      cpu::swiglu(isa, in_place.data(), u.data(), in_place.data(), n);
      expect_close(in_place.data(), want.data(), size_t(n), 1e-6, 1e-37, what + " in place");
    }
}

TEST(CpuOps, SoftmaxMatchesReference) {
  std::mt19937 rng(std::random_device{}());
  for (cpu::Isa isa : cpu::supported_isas())
    for (int64_t n : {1, 2, 15, 16, 17, 64, 1000, 4097}) {
      // Attention scores: spreads of tens, so many exp arguments are far below 0.
      auto want = test::random_floats(size_t(n), rng, 12.0f);
      auto got = poisoned(size_t(n));
      std::copy(want.begin(), want.end(), got.begin());
      ref::softmax(want.data(), n);
      cpu::softmax(isa, got.data(), n);
      const std::string what = std::string(cpu::isa_name(isa)) + " n " + std::to_string(n);
      // exp within 1 ulp, the sum in float over lanes (~log2(n) roundings), one scaling.
      expect_close(got.data(), want.data(), size_t(n), 2e-6, 1e-38, what);
      expect_guard(got, size_t(n), what);
    }
}

TEST(CpuOps, AddAndAddBiasAreExact) {
  std::mt19937 rng(std::random_device{}());
  for (cpu::Isa isa : cpu::supported_isas())
    for (int64_t n : {1, 15, 16, 33, 1000}) {
      const std::string what = std::string(cpu::isa_name(isa)) + " n " + std::to_string(n);
      auto x = test::random_floats(size_t(n), rng), y = test::random_floats(size_t(n), rng);
      auto got = poisoned(size_t(n));
      std::copy(x.begin(), x.end(), got.begin());
      cpu::add(isa, got.data(), y.data(), n);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(got[size_t(i)], x[size_t(i)] + y[size_t(i)]) << what;
      expect_guard(got, size_t(n), what);

      const int64_t rows = 3, len = n;
      auto m = test::random_floats(size_t(rows * len), rng), bias = test::random_floats(size_t(len), rng);
      auto biased = poisoned(size_t(rows * len));
      std::copy(m.begin(), m.end(), biased.begin());
      cpu::add_bias(isa, biased.data(), bias.data(), rows, len);
      for (int64_t i = 0; i < rows * len; ++i) ASSERT_EQ(biased[size_t(i)], m[size_t(i)] + bias[size_t(i % len)]) << what;
      expect_guard(biased, size_t(rows * len), what + " bias");
    }
}

}  // namespace
}  // namespace trapetum
