// GGUF block dequantization against gguf-py's reference (fixtures from
// scripts/make_codec_fixtures.py), and fp16/bf16 conversion round trips.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "common/test_util.h"
#include "core/half.h"
#include "quant/codec.h"

namespace trapetum {
namespace {

class GgmlBlocks : public ::testing::TestWithParam<const char*> {};

TEST_P(GgmlBlocks, MatchesGgufPy) {
  const std::string name = GetParam();
  const std::string bytes = test::read_file(test::test_data("codecs/" + name + ".bin"));
  ASSERT_GE(bytes.size(), 8u) << "missing fixture for " << name;
  uint32_t n = 0, nbytes = 0;
  std::memcpy(&n, bytes.data(), 4);
  std::memcpy(&nbytes, bytes.data() + 4, 4);
  ASSERT_EQ(bytes.size(), 8 + nbytes + size_t(n) * 4);
  const auto dt = dtype_from_name(name);
  ASSERT_TRUE(dt.has_value());
  const Codec& c = codec(*dt);
  ASSERT_EQ(int64_t(nbytes), c.row_bytes(n));
  std::vector<float> out(n, std::numeric_limits<float>::quiet_NaN());  // poisoned
  c.dequantize(bytes.data() + 8, out.data(), n);
  const float* want = reinterpret_cast<const float*>(bytes.data() + 8 + nbytes);
  for (uint32_t i = 0; i < n; ++i) {
    float w;
    std::memcpy(&w, want + i, 4);
    ASSERT_NEAR(out[i], w, 1e-6f * std::max(1.0f, std::fabs(w))) << name << " element " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(All, GgmlBlocks, ::testing::Values("Q8_0", "Q4_0", "Q4_1", "Q4_K", "Q6_K"));

TEST(Half, Fp16RoundTripsEveryValue) {
  for (uint32_t h = 0; h < 65536; ++h) {
    const float f = fp16_to_float(uint16_t(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(float_to_fp16(f), uint16_t(h)) << h;
  }
}

TEST(Half, Fp16RoundsToNearestEven) {
  EXPECT_EQ(fp16_to_float(float_to_fp16(1.0f + 1.0f / 4096)), 1.0f);              // tie -> even
  EXPECT_EQ(fp16_to_float(float_to_fp16(1.0f + 6.0f / 4096)), 1.0f + 2.0f / 1024);  // tie -> even (up)
  EXPECT_TRUE(std::isinf(fp16_to_float(float_to_fp16(70000.0f))));
  EXPECT_EQ(fp16_to_float(float_to_fp16(5.96046448e-08f)), 5.96046448e-08f);       // smallest subnormal
}

TEST(Half, Bf16) {
  EXPECT_EQ(bf16_to_float(float_to_bf16(1.0f)), 1.0f);
  EXPECT_EQ(bf16_to_float(float_to_bf16(1.00390625f)), 1.0f);  // tie -> even
  EXPECT_TRUE(std::isnan(bf16_to_float(float_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
}

TEST(CodecTable, BitsPerWeight) {
  EXPECT_DOUBLE_EQ(codec(DType::kQ4_0).bits_per_weight(), 4.5);
  EXPECT_DOUBLE_EQ(codec(DType::kQ4_K).bits_per_weight(), 4.5);
  EXPECT_DOUBLE_EQ(codec(DType::kQ6_K).bits_per_weight(), 6.5625);
  EXPECT_DOUBLE_EQ(codec(DType::kQ8_0).bits_per_weight(), 8.5);
  EXPECT_EQ(codec(DType::kQ4_K).row_bytes(300), -1);
}

}  // namespace
}  // namespace trapetum
