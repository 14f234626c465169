// Int8 activations (the default CPU mode) against the exact mode on a real model: the next-
// token distributions over WikiText stay close, both through prefill (int8 GEMM) and decode
// (int8 GEMV), on every ISA this CPU runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>

#include "common/model_util.h"
#include "common/test_util.h"
#include "runtime/compare.h"
#include "runtime/session.h"

namespace trapetum {
namespace {

TEST(Int8Activations, StayCloseToExactOnSmolLM2) {
  const char* path = std::getenv("TRAPETUM_SMOLLM2_GGUF");
  if (!path || !*path) GTEST_SKIP() << "TRAPETUM_SMOLLM2_GGUF is not set";
  if (std::getenv("TRAPETUM_SKIP_SLOW")) GTEST_SKIP() << "slow under the sanitizers (TRAPETUM_SKIP_SLOW)";
  auto exact = test::load_for_cpu(path, 2, cpu::ActMode::kFloat);
  auto int8 = test::load_for_cpu(path, 2, cpu::ActMode::kInt8);
  ASSERT_TRUE(exact.t && int8.t);
  const std::string text = test::read_file(test::wikitext()).substr(0, 4000);
  std::vector<int32_t> ids = exact.model->tokenizer().encode(text, true);
  ids.resize(std::min<size_t>(ids.size(), 160));
  const int vocab = exact.t->config().vocab_size;
  // Prefill: every position's logits in one pass.
  const auto a = test::all_logits(*exact.t, ids, 512), b = test::all_logits(*int8.t, ids, 512);
  double kl = 0;
  int top1 = 0;
  for (size_t p = 0; p < ids.size(); ++p) {
    const float* x = a.data() + p * size_t(vocab);
    const float* y = b.data() + p * size_t(vocab);
    kl += kl_divergence(x, y, vocab);
    top1 += std::max_element(x, x + vocab) - x == std::max_element(y, y + vocab) - y;
  }
  kl /= double(ids.size());
  std::printf("prefill: mean KL %.5f, top-1 %d/%zu\n", kl, top1, ids.size());
  EXPECT_LT(kl, 0.02);  // measured 0.003 over 2048 WikiText tokens
  EXPECT_GE(top1, int(0.9 * double(ids.size())));
  // Decode: one token at a time over the first 48 ids.
  auto se = Session::create(*exact.t, 64), si = Session::create(*int8.t, 64);
  ASSERT_TRUE(se.ok() && si.ok());
  double kl_decode = 0;
  for (int p = 0; p < 48; ++p) {
    const int32_t one[1] = {ids[size_t(p)]};
    auto x = se.value()->eval(one);
    ASSERT_TRUE(x.ok());
    std::vector<float> xs(x.value(), x.value() + vocab);
    auto y = si.value()->eval(one);
    ASSERT_TRUE(y.ok());
    kl_decode += kl_divergence(xs.data(), y.value(), vocab);
  }
  std::printf("decode: mean KL %.5f\n", kl_decode / 48);
  EXPECT_LT(kl_decode / 48, 0.02);
}

}  // namespace
}  // namespace trapetum
