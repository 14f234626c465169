// delta / materialize: a perturbed copy of stories260K stored as a q8 difference and rebuilt
// within codec error, as .cbk and as an HF directory; wrong bases and delta-as-model refused.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "common/model_util.h"
#include "common/test_util.h"
#include "model/model.h"
#include "press/delta.h"
#include "quant/row.h"

namespace trapetum {
namespace {

namespace fs = std::filesystem;

using test::stories;

// ||a - b|| / ||b|| over every tensor of b.
double model_rel_error(const Model& a, const Model& b) {
  double e = 0, n = 0;
  for (const auto& [name, view] : b.tensors()) {
    EXPECT_TRUE(a.tensors().count(name)) << name;
    if (!a.tensors().count(name)) continue;
    const auto x = test::tensor_f32(a, name), y = test::tensor_f32(b, name);
    for (size_t i = 0; i < y.size(); ++i) {
      e += double(x[i] - y[i]) * (x[i] - y[i]);
      n += double(y[i]) * y[i];
    }
  }
  return std::sqrt(e / n);
}

// A "fine-tuned" stories260K: an HF directory with every weight nudged by 2% noise.
void write_finetuned(const Model& base, const std::string& dir) {
  HfExportSource src = export_source(base);
  auto read = src.read;
  src.read = [read](const std::string& name, std::vector<float>* w) -> Status {
    TRY_STATUS(read(name, w));
    std::mt19937 rng(uint32_t(std::hash<std::string>()(name)));
    std::normal_distribution<float> noise(0.0f, 1.0f);
    double ss = 0;
    for (float x : *w) ss += double(x) * x;
    const float sigma = 0.02f * float(std::sqrt(ss / double(w->size())));
    for (float& x : *w) x += sigma * noise(rng);
    return Ok{};
  };
  auto r = write_hf_dir(src, dir, {});
  ASSERT_TRUE(r.ok()) << r.error();
}

class DeltaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(stories())) GTEST_SKIP() << "no " << stories();
    base_ = test::load_model(stories());
    ASSERT_TRUE(base_);
    write_finetuned(*base_, tmp_.file("ft"));
    ft_ = test::load_model(tmp_.file("ft"));
    ASSERT_TRUE(ft_);
    DeltaOptions o;
    o.recipe = Recipe::single_codec("q8").value();
    auto r = make_delta(*base_, *ft_, tmp_.file("d.cbk"), o);
    ASSERT_TRUE(r.ok()) << r.error();
    report_ = r.value();
  }
  test::TempDir tmp_;
  std::unique_ptr<Model> base_, ft_;
  DeltaReport report_;
};

TEST_F(DeltaTest, MaterializeCbkRecoversFinetuned) {
  EXPECT_NEAR(report_.delta_rel_norm, 0.02, 0.005);
  EXPECT_LT(report_.rel_error, 0.01);  // q8 on the difference
  MaterializeOptions m;
  m.recipe = Recipe::single_codec("f32").value();
  ASSERT_TRUE(materialize_delta(stories(), tmp_.file("d.cbk"), tmp_.file("out.cbk"), m).ok());
  auto out = test::load_model(tmp_.file("out.cbk"));
  ASSERT_TRUE(out);
  EXPECT_EQ(out->config().rope_layout, RopeLayout::kHalf);  // the fine-tuned model's layout
  const double err = model_rel_error(*out, *ft_);
  EXPECT_LT(err, 1e-3);
  EXPECT_GT(model_rel_error(*base_, *ft_), 10 * err);
}

TEST_F(DeltaTest, MaterializeHfDir) {
  MaterializeOptions m;
  ASSERT_TRUE(materialize_delta(stories(), tmp_.file("d.cbk"), tmp_.file("out_hf"), m).ok());
  auto out = test::load_model(tmp_.file("out_hf"));
  ASSERT_TRUE(out);
  EXPECT_LT(model_rel_error(*out, *ft_), 1e-3);
}

TEST_F(DeltaTest, WrongBaseIsRefusedUnlessForced) {
  MaterializeOptions m;
  m.recipe = Recipe::single_codec("q8").value();
  Status s = materialize_delta(tmp_.file("ft"), tmp_.file("d.cbk"), tmp_.file("out.cbk"), m);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().find(tmp_.file("ft")), std::string::npos) << s.error();
  EXPECT_NE(s.error().find(tmp_.file("d.cbk")), std::string::npos) << s.error();
  EXPECT_FALSE(fs::exists(tmp_.file("out.cbk")));
  m.force = true;  // the fine-tuned dir has the same tensor names and shapes, so it goes through
  EXPECT_TRUE(materialize_delta(tmp_.file("ft"), tmp_.file("d.cbk"), tmp_.file("out.cbk"), m).ok());
}

TEST_F(DeltaTest, DeltaIsNotAModel) {
  auto m = Model::load(tmp_.file("d.cbk"));
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.error().find("is a delta; materialize it with --base"), std::string::npos) << m.error();
}

TEST_F(DeltaTest, MismatchedShapesNameTheTensor) {
  const std::string other = test::test_data("models/tiny_llama/model.gguf");
  if (!fs::exists(other)) GTEST_SKIP();
  auto o = test::load_model(other);
  ASSERT_TRUE(o);
  DeltaOptions d;
  d.recipe = Recipe::single_codec("q8").value();
  auto r = make_delta(*o, *ft_, tmp_.file("bad.cbk"), d);
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(fs::exists(tmp_.file("bad.cbk")));
}

}  // namespace
}  // namespace trapetum
