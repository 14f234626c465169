// The press as a library: per-tensor quantization is thread-count independent, outliers
// lower the error, the size budget is met, and a pressed model loads and runs alone.
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/test_util.h"
#include "core/thread_pool.h"
#include "model/model.h"
#include "press/quantize_model.h"
#include "press/quantize_tensor.h"

namespace trapetum {
namespace {

using test::stories;

// Heavy-tailed weights (Student-t, 3 degrees of freedom), where outliers matter.
std::vector<float> heavy_tailed(int64_t n, std::mt19937& rng) {
  std::student_t_distribution<float> t(3.0f);
  std::vector<float> w(static_cast<size_t>(n));
  for (float& v : w) v = 0.02f * t(rng);
  return w;
}

TEST(Press, TensorIsIdenticalForAnyThreadCount) {
  std::mt19937 rng(std::random_device{}());
  const int64_t rows = 37, cols = 300;
  const std::vector<float> w = heavy_tailed(rows * cols, rng);
  const TensorView src = test::view(DType::kF32, {rows, cols}, w.data());
  ThreadPool one(1), three(3);
  for (DType t : {DType::kQ4G64, DType::kCB4, DType::kT158}) {
    const PressedTensor a = press_tensor(src, t, 0.01, one), b = press_tensor(src, t, 0.01, three);
    EXPECT_EQ(a.data, b.data) << dtype_name(t);
    EXPECT_EQ(a.outliers.cols, b.outliers.cols) << dtype_name(t);
    EXPECT_EQ(a.outliers.vals, b.outliers.vals) << dtype_name(t);
    EXPECT_EQ(a.sq_error, b.sq_error) << dtype_name(t);
  }
}

TEST(Press, OutliersLowerTheErrorAndAreSortedPerRow) {
  std::mt19937 rng(std::random_device{}());
  const int64_t rows = 16, cols = 512;
  const std::vector<float> w = heavy_tailed(rows * cols, rng);
  const TensorView src = test::view(DType::kF32, {rows, cols}, w.data());
  ThreadPool pool(2);
  for (DType t : {DType::kT158, DType::kQ4G128, DType::kCB4}) {
    const PressedTensor plain = press_tensor(src, t, 0.0, pool), sparse = press_tensor(src, t, 0.01, pool);
    // q4g's group extremes are stored exactly, so its outliers only take the largest rounding
    // errors away: about 3% of the error at 1%, against more for t158 and cb4.
    EXPECT_LT(sparse.rel_error(), (t == DType::kQ4G128 ? 0.985 : 0.97) * plain.rel_error()) << dtype_name(t);
    ASSERT_EQ(sparse.outliers.row_ptr.size(), size_t(rows + 1));
    EXPECT_EQ(sparse.outliers.nnz(), rows * 6);  // ceil(1% of 512) per row
    for (int64_t r = 0; r < rows; ++r)
      for (uint32_t i = sparse.outliers.row_ptr[size_t(r)] + 1; i < sparse.outliers.row_ptr[size_t(r) + 1]; ++i)
        EXPECT_LT(sparse.outliers.cols[i - 1], sparse.outliers.cols[i]);
    EXPECT_GT(sparse.bits_per_weight(), plain.bits_per_weight());
  }
}

TEST(Press, ModelRunsAloneAndMeetsTheBudget) {
  if (!std::filesystem::exists(stories())) GTEST_SKIP() << "../shared not present";
  auto src = Model::load(stories());
  ASSERT_TRUE(src.ok()) << src.error();
  test::TempDir dir;
  for (double target : {4.0, 6.0}) {  // 64-wide rows: the cheapest codecs cost 3.4 bits here
    PressOptions o;
    o.target_bpw = target;
    o.threads = 2;
    const std::string out = dir.file("b" + std::to_string(int(target)) + ".cbk");
    auto r = quantize_model(*src.value(), out, o);
    ASSERT_TRUE(r.ok()) << r.error();
    std::printf("target %.1f: %.3f bpw, rel error %.4f\n", target, r.value().bits_per_weight, r.value().rel_error);
    EXPECT_LE(r.value().bits_per_weight, target + 1e-9);
    EXPECT_GT(r.value().bits_per_weight, target - 1.5) << "budget badly under-used";
    auto m = Model::load(out);
    ASSERT_TRUE(m.ok()) << m.error();
    EXPECT_EQ(m.value()->format(), "cbk");
    EXPECT_EQ(m.value()->tokenizer().encode("Once upon a time", true),
              src.value()->tokenizer().encode("Once upon a time", true));
    const auto meta = nlohmann::json::parse(m.value()->container_metadata());
    EXPECT_EQ(meta["source"]["sha256"].get<std::string>().size(), 64u);
    EXPECT_EQ(meta["tool"]["name"], "trapetum");
  }
  PressOptions bad;
  bad.target_bpw = 1.0;
  auto r = quantize_model(*src.value(), dir.file("x.cbk"), bad);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("smallest possible"), std::string::npos) << r.error();
  EXPECT_FALSE(std::filesystem::exists(dir.file("x.cbk")));
}

TEST(Press, CancelledRunLeavesNoFile) {
  if (!std::filesystem::exists(stories())) GTEST_SKIP() << "../shared not present";
  auto src = Model::load(stories());
  ASSERT_TRUE(src.ok());
  test::TempDir dir;
  std::atomic<bool> cancel{false};
  PressOptions o;
  auto recipe = Recipe::named("4bit");
  ASSERT_TRUE(recipe.ok());
  o.recipe = recipe.value();
  o.cancel = &cancel;
  o.progress = [&](const PressProgress& p) {
    if (p.index == 5) cancel.store(true);
  };
  auto r = quantize_model(*src.value(), dir.file("c.cbk"), o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("interrupted"), std::string::npos);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(Press, RecipesAndOverridesPickCodecsByName) {
  auto r = Recipe::named("4bit");
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(r.value().add_override("blk\\.0\\.ffn_down=t158").ok());
  EXPECT_EQ(r.value().choose({"blk.1.attn_q.weight"}, {64, 64}).dtype, DType::kCB4S);
  EXPECT_EQ(r.value().choose({"token_embd.weight", "model.embed_tokens.weight"}, {512, 64}).dtype, DType::kQ8);
  EXPECT_EQ(r.value().choose({"blk.0.ffn_down.weight"}, {64, 172}).dtype, DType::kT158);
  EXPECT_EQ(r.value().choose({"blk.0.attn_norm.weight"}, {64}).dtype, DType::kF32);
  // HF spellings match too, as in --tensor-type 'lm_head|embed=q4g32'.
  ASSERT_TRUE(r.value().add_override("lm_head|embed=q4g32").ok());
  EXPECT_EQ(r.value().choose({"output.weight", "lm_head.weight"}, {512, 64}).dtype, DType::kQ4G32);
  for (const char* bad : {"nocodec", "x=q9", "(=q8", "=q8"}) {
    Status s = r.value().add_override(bad);
    EXPECT_FALSE(s.ok()) << bad;
  }
  EXPECT_FALSE(Recipe::named("3bit").ok());
  EXPECT_FALSE(Recipe::single_codec("Q4_K").ok());  // read-only GGUF format
  EXPECT_TRUE(Recipe::single_codec("F16").ok());
}

}  // namespace
}  // namespace trapetum
