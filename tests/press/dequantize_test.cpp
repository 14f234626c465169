// dequantize: GGUF and .cbk models written as HF directories load back in the engine with the
// same logits, Q/K rows un-permuted exactly, the same tokenization, and atomic, no-clobber output.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "backend/cpu_backend.h"
#include "common/model_util.h"
#include "common/test_util.h"
#include "model/model.h"
#include "model/transformer.h"
#include "press/dequantize.h"
#include "press/quantize_model.h"
#include "quant/row.h"
#include "runtime/session.h"

namespace trapetum {
namespace {

namespace fs = std::filesystem;

using test::stories;

// Logits at every position of one forward pass.
std::vector<float> logits(const Model& m, const std::vector<int32_t>& ids) {
  CpuBackend backend(2, CpuOptions{std::nullopt, cpu::ActMode::kFloat});  // exact: compared with HF
  auto t = Transformer::create(m, backend);
  EXPECT_TRUE(t.ok()) << t.error();
  return t.ok() ? test::all_logits(*t.value(), ids, 4) : std::vector<float>{};
}

// max |a - b| / max |a|
double rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  double d = 0, m = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    d = std::max(d, double(std::fabs(a[i] - b[i])));
    m = std::max(m, double(std::fabs(a[i])));
  }
  return m > 0 ? d / m : d;
}

// Dequantizes src into dir and checks logits and tokenization against the source.
void check_round_trip(const std::string& src_path, const std::string& dir, double tol) {
  auto src = test::load_model(src_path);
  ASSERT_TRUE(src);
  auto r = dequantize_model(*src, dir, {});
  ASSERT_TRUE(r.ok()) << r.error();
  auto out = test::load_model(dir);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->config().rope_layout, RopeLayout::kHalf);
  const std::string text = "Once upon a time, a little girl named Lily saw a big dog. <s> xyz\n";
  const auto ids = src->tokenizer().encode(text, true);
  EXPECT_EQ(out->tokenizer().encode(text, true), ids);
  EXPECT_EQ(out->tokenizer().decode(ids, true), src->tokenizer().decode(ids, true));
  const double d = rel_diff(logits(*src, ids), logits(*out, ids));
  EXPECT_LT(d, tol) << src_path;
}

TEST(Dequantize, GgufToHfSameLogits) {
  if (!fs::exists(stories())) GTEST_SKIP() << "no " << stories();
  test::TempDir tmp;
  check_round_trip(stories(), tmp.file("hf"), 1e-5);
}

TEST(Dequantize, CbkToHfSameLogits) {
  if (!fs::exists(stories())) GTEST_SKIP() << "no " << stories();
  test::TempDir tmp;
  auto src = test::load_model(stories());
  ASSERT_TRUE(src);
  PressOptions po;
  po.recipe = Recipe::single_codec("q4g32").value();
  po.recipe.set_outliers(0.01);
  po.hash_source = false;
  auto q = quantize_model(*src, tmp.file("m.cbk"), po);
  ASSERT_TRUE(q.ok()) << q.error();
  check_round_trip(tmp.file("m.cbk"), tmp.file("hf"), 1e-5);
}

// tiny_llama's model.gguf is its safetensors with Q/K permuted by convert_hf_to_gguf: the
// dequantized GGUF must hold exactly the original HF weights.
TEST(Dequantize, UnpermutesGgufQkExactly) {
  const std::string dir = test::test_data("models/tiny_llama");
  if (!fs::exists(dir + "/model.gguf")) GTEST_SKIP();
  test::TempDir tmp;
  auto gguf = test::load_model(dir + "/model.gguf");
  auto hf = test::load_model(dir);
  ASSERT_TRUE(gguf && hf);
  ASSERT_EQ(gguf->config().rope_layout, RopeLayout::kInterleaved);
  ASSERT_TRUE(dequantize_model(*gguf, tmp.file("hf"), {}).ok());
  auto out = test::load_model(tmp.file("hf"));
  ASSERT_TRUE(out);
  for (const auto& [name, view] : hf->tensors()) {
    ASSERT_TRUE(out->tensors().count(name)) << name;
    EXPECT_EQ(test::tensor_f32(*out, name), test::tensor_f32(*hf, name)) << name;
  }
}

TEST(Dequantize, PermuteInvertsUnpermute) {
  std::vector<float> w(2 * 8 * 3);
  for (size_t i = 0; i < w.size(); ++i) w[i] = float(i);
  const std::vector<float> orig = w;
  permute_rope_rows(&w, 2, 8, 3);
  EXPECT_EQ(w[3 * 1], orig[3 * 4]);  // interleaved row 1 = half row 4 (i = 0, s = 1)
  unpermute_rope_rows(&w, 2, 8, 3);
  EXPECT_EQ(w, orig);
}

TEST(Dequantize, RefusesToOverwriteAndF16Loads) {
  if (!fs::exists(stories())) GTEST_SKIP() << "no " << stories();
  test::TempDir tmp;
  auto src = test::load_model(stories());
  ASSERT_TRUE(src);
  fs::create_directories(tmp.file("hf"));
  auto r = dequantize_model(*src, tmp.file("hf"), {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("already exists"), std::string::npos) << r.error();
  DequantizeOptions o;
  o.force = true;
  o.dtype = DType::kF16;
  ASSERT_TRUE(dequantize_model(*src, tmp.file("hf"), o).ok());
  auto out = test::load_model(tmp.file("hf"));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->tensors().at("blk.0.attn_q.weight").dtype, DType::kF16);
  for (const auto& e : fs::directory_iterator(tmp.path()))  // no temporary directory left behind
    EXPECT_EQ(e.path().filename().string().find(".tmp-"), std::string::npos) << e.path();
}

}  // namespace
}  // namespace trapetum
