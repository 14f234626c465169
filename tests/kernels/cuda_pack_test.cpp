// Host tests of the CUDA device layouts: every codec repacked (kernels/cuda/pack.h) and decoded
// by the very decoders the GPU runs (device_weight.h) equals the reference dequantizer bit for
// bit, and the GEMV's per-lane work (row_dot.h), summed over a warp's 32 lanes, equals a
// float64 matmul. Runs without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "common/test_util.h"
#include "kernels/cuda/family_dispatch.h"
#include "kernels/cuda/pack.h"
#include "kernels/cuda/row_dot.h"
#include "kernels/ref/ops.h"
#include "quant/lowbit.h"
#include "quant/row.h"

namespace trapetum {
namespace {

using cuda::Family;
using cuda::with_family;

constexpr DType kAll[] = {DType::kF32,   DType::kF16,   DType::kBF16,   DType::kQ8_0, DType::kQ4_0,
                          DType::kQ4_1,  DType::kQ4_K,  DType::kQ6_K,   DType::kQ8,   DType::kQ4G32,
                          DType::kQ4G64, DType::kQ4G128, DType::kCB4,   DType::kCB4S, DType::kT158,
                          DType::kT158P};

// Columns that exercise partial chunks and partial groups where the codec allows them.
std::vector<int64_t> cols_for(DType t) {
  const Codec& c = codec(t);
  if (!c.pads_tail && c.block_elems > 1) return {c.block_elems, 4 * c.block_elems};
  return {1, 37, 200, 333, 1024};
}

// Every element of every row, decoded chunk by chunk from the device layout.
std::vector<float> decode_all(const cuda::PackedWeight& p, bool float_book) {
  const cuda::DevWeight w = p.host_view();
  std::vector<float> out(size_t(p.rows * p.cols), std::nanf(""));
  with_family(p.family, [&]<Family F>() {
    constexpr int kN = cuda::kChunk<F>;
    for (int64_t r = 0; r < p.rows; ++r) {
      float book[16];
      if (!p.books.empty())
        for (int i = 0; i < 16; ++i) book[i] = fp16_to_float(p.books[size_t(r * 16 + i)]);
      for (int64_t c = 0; c * kN < p.cols; ++c) {
        float v[kN];
        cuda::decode_chunk<F>(w, r, c, cuda::load_chunk(w, r, c), v, float_book && !p.books.empty() ? book : nullptr);
        for (int i = 0; i < kN && c * kN + i < p.cols; ++i) out[size_t(r * p.cols + c * kN + i)] = v[i];
      }
    }
  });
  return out;
}

TEST(CudaPack, EveryCodecDecodesBitExactlyToTheReference) {
  std::mt19937 rng(std::random_device{}());
  for (DType t : kAll)
    for (int64_t cols : cols_for(t))
      for (bool float_book : {false, true}) {
        SCOPED_TRACE(str_cat(dtype_name(t), " cols ", cols, float_book ? " (float book)" : ""));
        const int64_t rows = 5;
        const std::vector<uint8_t> bytes = test::random_packed(t, rows, cols, rng);
        const TensorView w = test::view(t, {rows, cols}, bytes.data());
        auto p = cuda::pack_weight(w);
        ASSERT_TRUE(p.ok()) << p.error();
        EXPECT_EQ(p->pitch % 16, 0);
        const std::vector<float> got = decode_all(p.value(), float_book);
        std::vector<float> want(static_cast<size_t>(cols));
        for (int64_t r = 0; r < rows; ++r) {
          dequantize_row(w, r, want.data());
          for (int64_t i = 0; i < cols; ++i) {
            const float g = got[size_t(r * cols + i)];
            ASSERT_TRUE(g == want[size_t(i)] || (std::isnan(g) && std::isnan(want[size_t(i)])))
                << "row " << r << " col " << i << ": device layout " << g << ", reference " << want[size_t(i)];
          }
        }
      }
}

TEST(CudaPack, DeviceBytesMatchTheFileForCodecsThatKeepTheirSize) {
  std::mt19937 rng(7);
  const int64_t rows = 3, cols = 4096;
  for (DType t : {DType::kF16, DType::kQ8, DType::kQ8_0, DType::kQ4G32, DType::kQ4G64, DType::kQ4G128, DType::kQ4_1,
                  DType::kCB4, DType::kCB4S, DType::kT158}) {
    const std::vector<uint8_t> bytes = test::random_packed(t, rows, cols, rng);
    auto p = cuda::pack_weight(test::view(t, {rows, cols}, bytes.data()));
    ASSERT_TRUE(p.ok()) << p.error();
    // cb4s pads codes to 16 bytes per row; everything else is byte for byte the same size.
    const int64_t file = rows * codec(t).row_bytes(cols);
    EXPECT_LE(p->device_bytes(), file + rows * 16) << dtype_name(t);
    EXPECT_GE(p->device_bytes(), file - rows * 16) << dtype_name(t);
  }
}

TEST(CudaPack, Cb4sScaleTableMatchesTheCodec) {
  for (int j = 0; j < 16; ++j) EXPECT_EQ(cuda::cb4s_frac(j), kCb4sScaleFrac[j]) << j;
  for (int e = 0; e < 256; ++e) {
    const float want = cb4s_scale(uint8_t(e));
    const float got = e == 255 ? 0.0f : cuda::cb4s_frac(e & 15) * cuda::exp2_int(e >> 4);
    EXPECT_EQ(got, want) << e;
  }
}

TEST(CudaPack, T158CodeThreeReadsAsZero) {
  const int64_t cols = 128;
  std::vector<uint8_t> bytes(sizeof(BlockT158), 0xff);  // every code 3
  const uint16_t one = float_to_fp16(1.0f);
  std::memcpy(bytes.data(), &one, 2);
  auto p = cuda::pack_weight(test::view(DType::kT158, {1, cols}, bytes.data()));
  ASSERT_TRUE(p.ok());
  for (float v : decode_all(p.value(), false)) EXPECT_EQ(v, 0.0f);
}

TEST(CudaPack, ErrorsNameTheProblem) {
  std::vector<uint8_t> bytes(1024, 0);
  auto partial = cuda::pack_weight(test::view(DType::kQ4_K, {1, 100}, bytes.data()));
  ASSERT_FALSE(partial.ok());
  EXPECT_NE(partial.error().find("Q4_K"), std::string::npos) << partial.error();
  auto empty = cuda::pack_weight(test::view(DType::kQ4G64, {1, 64}, nullptr));
  ASSERT_FALSE(empty.ok());
  EXPECT_NE(empty.error().find("no data"), std::string::npos) << empty.error();
}

// y (n, rows) by the GEMV's lane decomposition, as a warp would add its lanes.
template <int NT>
void emulate_gemv(const cuda::PackedWeight& p, const float* x, float* y) {
  const cuda::DevWeight w = p.host_view();
  with_family(p.family, [&]<Family F>() {
    for (int64_t r = 0; r < p.rows; ++r) {
      float book[16];
      for (int i = 0; i < 16 && !p.books.empty(); ++i) book[i] = fp16_to_float(p.books[size_t(r * 16 + i)]);
      float total[NT] = {};
      for (int lane = 0; lane < 32; ++lane) {
        float acc[NT] = {};
        cuda::row_dot<F, NT>(w, r, x, lane, 32, acc, p.books.empty() ? nullptr : book);
        for (int t = 0; t < NT; ++t) total[t] += acc[t];
      }
      for (int t = 0; t < NT; ++t) y[t * p.rows + r] = total[t];
    }
  });
}

template <int NT>
void check_gemv(DType t, int64_t rows, int64_t cols, bool outliers, std::mt19937& rng) {
  SCOPED_TRACE(str_cat(dtype_name(t), " ", rows, "x", cols, " tokens ", NT, outliers ? " with outliers" : ""));
  const std::vector<uint8_t> bytes = test::random_packed(t, rows, cols, rng);
  TensorView w = test::view(t, {rows, cols}, bytes.data());
  std::vector<uint32_t> row_ptr{0}, ocols;
  std::vector<uint16_t> ovals;
  if (outliers) {
    std::uniform_int_distribution<int64_t> col(0, cols - 1);
    for (int64_t r = 0; r < rows; ++r) {
      std::vector<uint32_t> cs;
      for (int k = 0; k < 3; ++k) cs.push_back(uint32_t(col(rng)));
      std::sort(cs.begin(), cs.end());
      cs.erase(std::unique(cs.begin(), cs.end()), cs.end());
      for (uint32_t c : cs) ocols.push_back(c), ovals.push_back(float_to_fp16(std::normal_distribution<float>(0, 4)(rng)));
      row_ptr.push_back(uint32_t(ocols.size()));
    }
    w.outliers = {row_ptr.data(), ocols.data(), ovals.data(), int64_t(ocols.size())};
  }
  auto p = cuda::pack_weight(w);
  ASSERT_TRUE(p.ok()) << p.error();
  const std::vector<float> x = test::random_floats(size_t(NT * cols), rng);
  std::vector<float> got(size_t(NT * rows), std::nanf("")), want(size_t(NT * rows));
  emulate_gemv<NT>(p.value(), x.data(), got.data());
  ref::matmul(w, x.data(), want.data(), NT);
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < rows; ++r) {
    dequantize_row(w, r, row.data());
    for (int t = 0; t < NT; ++t) {
      // Float sums of depth <= kChunk + chunks / 32 + 32 < 100 terms: |error| <= 100 eps sum|w x|.
      double abs_sum = 0;
      for (int64_t i = 0; i < cols; ++i) abs_sum += std::fabs(double(row[size_t(i)]) * x[size_t(t * cols + i)]);
      const float g = got[size_t(t * rows + r)], e = want[size_t(t * rows + r)];
      ASSERT_NEAR(g, e, 100 * 6e-8 * abs_sum + 1e-6) << "row " << r << " token " << t;
    }
  }
}

TEST(CudaPack, WarpEmulatedGemvMatchesFloat64) {
  std::mt19937 rng(std::random_device{}());
  for (DType t : kAll)
    for (int64_t cols : cols_for(t)) {
      check_gemv<1>(t, 9, cols, false, rng);
      check_gemv<2>(t, 3, cols, true, rng);
      check_gemv<8>(t, 2, cols, true, rng);
    }
}

}  // namespace
}  // namespace trapetum
