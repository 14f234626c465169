// CPU matmul (every ISA this machine has, every codec) against the scalar reference on fresh
// random inputs of awkward shapes, with poisoned outputs.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "backend/cpu_backend.h"
#include "common/test_util.h"
#include "core/half.h"
#include "kernels/cpu/matmul.h"
#include "kernels/ref/ops.h"
#include "quant/row.h"

namespace trapetum {
namespace {

// Compares y against the reference with a bound scaled by sum |w||x| of each output.
void expect_close(const TensorView& w, const std::vector<float>& x, const std::vector<float>& y, int64_t m,
                  const std::string& what) {
  const int64_t n = w.rows(), k = w.cols();
  std::vector<float> ref(static_cast<size_t>(m * n));
  ref::matmul(w, x.data(), ref.data(), m);
  std::vector<float> row(static_cast<size_t>(k));
  for (int64_t r = 0; r < n; ++r) {
    dequantize_row(w, r, row.data());
    for (int64_t i = 0; i < m; ++i) {
      double mag = 0;
      for (int64_t j = 0; j < k; ++j) mag += std::fabs(double(row[size_t(j)]) * x[size_t(i * k + j)]);
      const float got = y[size_t(i * n + r)];
      ASSERT_TRUE(std::isfinite(got)) << what << " row " << r << " token " << i << " not written";
      ASSERT_NEAR(got, ref[size_t(i * n + r)], 1e-5 * mag + 1e-6) << what << " row " << r << " token " << i;
    }
  }
}

struct Shape {
  DType dtype;
  int64_t rows, cols;
};

TEST(CpuMatmul, MatchesReferenceForEveryCodecAndIsa) {
  std::mt19937 rng(std::random_device{}());
  const Shape shapes[] = {
      {DType::kF32, 37, 173}, {DType::kF16, 19, 96},  {DType::kBF16, 21, 80}, {DType::kQ8_0, 35, 96},
      {DType::kQ4_0, 17, 64}, {DType::kQ4_1, 33, 160}, {DType::kQ4_K, 18, 512}, {DType::kQ6_K, 23, 256},
  };
  std::vector<Shape> all(std::begin(shapes), std::end(shapes));
  for (int t = 0; t < int(DType::kCount); ++t)  // every codec trapetum writes, on rows of partial blocks
    if (codec(DType(t)).quantize) all.push_back({DType(t), 29, 203});
  for (const Shape& s : all) {
    auto packed = test::random_packed(s.dtype, s.rows, s.cols, rng);
    TensorView w = test::view(s.dtype, {s.rows, s.cols}, packed.data());
    for (int64_t m : {1, 3, 4, 7, 8, 13, 21}) {
      auto x = test::random_floats(size_t(m * s.cols), rng);
      for (cpu::Isa isa : cpu::supported_isas()) {
        std::vector<float> y(size_t(m * s.rows), std::numeric_limits<float>::quiet_NaN());
        std::vector<float> tile(static_cast<size_t>(cpu::matmul_scratch_floats(s.cols)));
        for (int64_t r0 = 0; r0 < s.rows; r0 += cpu::kMatmulTileRows)
          cpu::matmul_tile(isa, w, x.data(), y.data(), m, s.rows, r0, std::min(s.rows, r0 + cpu::kMatmulTileRows),
                           tile.data());
        expect_close(w, x, y, m, std::string(dtype_name(s.dtype)) + "/" + cpu::isa_name(isa) + "/m=" + std::to_string(m));
      }
    }
  }
}

TEST(CpuMatmul, BackendSplitsRowsAcrossThreads) {
  std::mt19937 rng(std::random_device{}());
  CpuBackend b(3, {.isa = std::nullopt, .act = cpu::ActMode::kFloat});
  auto packed = test::random_packed(DType::kQ4_1, 101, 64, rng);
  TensorView w = test::view(DType::kQ4_1, {101, 64}, packed.data());
  auto x = test::random_floats(5 * 64, rng);
  std::vector<float> y(5 * 101, std::numeric_limits<float>::quiet_NaN());
  b.matmul(w, x.data(), y.data(), 5);
  expect_close(w, x, y, 5, "threaded");
}

TEST(CpuMatmul, AddsSparseOutliers) {
  std::mt19937 rng(std::random_device{}());
  const int64_t rows = 45, cols = 130;
  auto packed = test::random_packed(DType::kQ4G64, rows, cols, rng);
  TensorView w = test::view(DType::kQ4G64, {rows, cols}, packed.data());
  // A few outliers per row, some rows empty, columns ascending.
  std::vector<uint32_t> row_ptr{0}, cols_idx;
  std::vector<uint16_t> vals;
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = r % 3; c < cols && r % 5 != 0; c += 17 + r % 7) {
      cols_idx.push_back(uint32_t(c));
      vals.push_back(float_to_fp16(std::uniform_real_distribution<float>(-2.0f, 2.0f)(rng)));
    }
    row_ptr.push_back(uint32_t(cols_idx.size()));
  }
  w.outliers = {row_ptr.data(), cols_idx.data(), vals.data(), int64_t(cols_idx.size())};
  CpuBackend b(2, {.isa = std::nullopt, .act = cpu::ActMode::kFloat});
  for (int64_t m : {1, 6}) {
    auto x = test::random_floats(size_t(m * cols), rng);
    std::vector<float> y(size_t(m * rows), std::numeric_limits<float>::quiet_NaN());
    b.matmul(w, x.data(), y.data(), m);
    expect_close(w, x, y, m, "outliers/m=" + std::to_string(m));
    // The outliers must change the result: compare with the same matrix without them.
    TensorView plain = w;
    plain.outliers = {};
    std::vector<float> y0(size_t(m * rows));
    b.matmul(plain, x.data(), y0.data(), m);
    double diff = 0;
    for (size_t i = 0; i < y.size(); ++i) diff = std::max(diff, double(std::fabs(y[i] - y0[i])));
    EXPECT_GT(diff, 1e-3);
  }
}

}  // namespace
}  // namespace trapetum
