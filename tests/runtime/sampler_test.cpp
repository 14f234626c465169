// Sampler: greedy, determinism by seed, truncation rules and the repetition penalty.
#include "runtime/sampler.h"

#include <gtest/gtest.h>

#include <map>

#include "common/test_util.h"

namespace trapetum {
namespace {

TEST(Sampler, TemperatureZeroIsArgmax) {
  std::mt19937 rng(std::random_device{}());
  auto logits = test::random_floats(1000, rng);
  SamplerParams p;
  p.temperature = 0;
  Sampler s(p);
  EXPECT_EQ(s.sample(logits.data(), 1000, {}), argmax(logits.data(), 1000));
}

TEST(Sampler, SameSeedSameSequence) {
  std::mt19937 rng(std::random_device{}());
  auto logits = test::random_floats(500, rng, 2.0f);
  SamplerParams p;
  p.temperature = 1.0f;
  p.seed = 1234;
  Sampler a(p), b(p);
  p.seed = 1235;
  Sampler c(p);
  std::vector<int32_t> sa, sb, sc;
  for (int i = 0; i < 64; ++i) {
    sa.push_back(a.sample(logits.data(), 500, {}));
    sb.push_back(b.sample(logits.data(), 500, {}));
    sc.push_back(c.sample(logits.data(), 500, {}));
  }
  EXPECT_EQ(sa, sb);
  EXPECT_NE(sa, sc);
}

TEST(Sampler, TopKOneAndMinPKeepOnlyTheBest) {
  std::mt19937 rng(std::random_device{}());
  auto logits = test::random_floats(300, rng);
  const int32_t best = argmax(logits.data(), 300);
  SamplerParams p;
  p.temperature = 5.0f;
  p.top_k = 1;
  Sampler s(p);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(s.sample(logits.data(), 300, {}), best);
  // min-p: a token far below the best is never drawn.
  std::vector<float> two = {0.0f, -20.0f};
  SamplerParams q;
  q.temperature = 1.0f;
  q.top_k = 0;
  q.top_p = 1.0f;
  q.min_p = 0.01f;
  Sampler t(q);
  for (int i = 0; i < 200; ++i) EXPECT_EQ(t.sample(two.data(), 2, {}), 0);
}

TEST(Sampler, FollowsTheDistribution) {
  // Probabilities 0.5, 0.25, 0.25 at temperature 1 with no truncation.
  std::vector<float> logits = {std::log(2.0f), 0.0f, 0.0f};
  SamplerParams p;
  p.temperature = 1.0f;
  p.top_k = 0;
  p.top_p = 1.0f;
  p.min_p = 0.0f;
  p.seed = 99;
  Sampler s(p);
  std::map<int32_t, int> count;
  const int n = 20000;
  for (int i = 0; i < n; ++i) ++count[s.sample(logits.data(), 3, {})];
  EXPECT_NEAR(count[0] / double(n), 0.5, 0.02);
  EXPECT_NEAR(count[1] / double(n), 0.25, 0.02);
  EXPECT_NEAR(count[2] / double(n), 0.25, 0.02);
}

TEST(Sampler, RepeatPenaltyDemotesSeenTokens) {
  std::vector<float> logits = {2.0f, 1.9f, -1.0f};
  SamplerParams p;
  p.temperature = 0;
  p.repeat_penalty = 1.5f;
  Sampler s(p);
  EXPECT_EQ(s.sample(logits.data(), 3, {0}), 1);
  EXPECT_EQ(s.sample(logits.data(), 3, {}), 0);
}

TEST(Sampler, ValidatesParameters) {
  SamplerParams p;
  p.temperature = -1;
  EXPECT_NE(validate_sampler_params(p), "");
  p.temperature = std::nanf("");
  EXPECT_NE(validate_sampler_params(p), "");
  p = SamplerParams{};
  p.top_p = 0;
  EXPECT_NE(validate_sampler_params(p), "");
  EXPECT_EQ(validate_sampler_params(SamplerParams{}), "");
}

}  // namespace
}  // namespace trapetum
