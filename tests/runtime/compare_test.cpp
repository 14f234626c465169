// compare: KL / top-1 / logit statistics on synthetic logits against plain double-precision
// formulas, quantile selection, and whole-model comparisons (a model against itself, and the
// tiny llama fixture's f16 twin against its f32 weights, checked against the HF fixtures).
#include "runtime/compare.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "backend/cpu_backend.h"
#include "common/model_util.h"
#include "common/test_util.h"
#include "core/str.h"
#include "runtime/perplexity.h"
#include "runtime/session.h"

namespace trapetum {
namespace {

namespace fs = std::filesystem;

// KL(softmax(a) || softmax(b)) the obvious way: probabilities first, then sum p log(p / q).
double naive_kl(const std::vector<float>& a, const std::vector<float>& b) {
  double za = 0, zb = 0;
  for (size_t i = 0; i < a.size(); ++i) za += std::exp(double(a[i])), zb += std::exp(double(b[i]));
  double kl = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    const double p = std::exp(double(a[i])) / za, q = std::exp(double(b[i])) / zb;
    kl += p * std::log(p / q);
  }
  return kl;
}

TEST(DivergenceStats, IdenticalLogitsGiveZero) {
  std::mt19937 rng(1);
  DivergenceStats s;
  for (int pos = 0; pos < 20; ++pos) {
    const std::vector<float> x = test::random_floats(1000, rng, 8.0f);
    s.add(x.data(), x.data(), 1000);
  }
  EXPECT_EQ(s.count(), 20);
  EXPECT_EQ(s.kl_mean(), 0.0);
  EXPECT_EQ(s.kl_max(), 0.0);
  EXPECT_EQ(s.kl_quantile(0.99), 0.0);
  EXPECT_EQ(s.top1(), 1.0);
  EXPECT_EQ(s.max_abs_dlogit(), 0.0);
  EXPECT_EQ(s.mean_abs_dlogit(), 0.0);
}

TEST(DivergenceStats, ShiftedDistributionGivesAnalyticKl) {
  // P = (1/2, 1/4, 1/4), Q = (1/4, 1/2, 1/4): KL(P || Q) = 1/2 ln 2 - 1/4 ln 2 = ln(2) / 4.
  // Q's logits carry a constant offset of 3, which softmax ignores.
  const std::vector<float> p = {std::log(0.5f), std::log(0.25f), std::log(0.25f)};
  const std::vector<float> q = {std::log(0.25f) + 3, std::log(0.5f) + 3, std::log(0.25f) + 3};
  EXPECT_NEAR(kl_divergence(p.data(), q.data(), 3), std::log(2.0) / 4, 1e-7);
  EXPECT_NEAR(kl_divergence(p.data(), q.data(), 3), naive_kl(p, q), 1e-15);
  // KL is not symmetric: against the uniform U, KL(P || U) = ln 3 + sum p ln p and
  // KL(U || P) = -ln 3 - (1/3) sum ln p.
  const std::vector<float> r = {0.0f, 0.0f, 0.0f};  // uniform
  const double kl_pr = std::log(3.0) + (0.5 * std::log(0.5) + 0.5 * std::log(0.25));
  EXPECT_NEAR(kl_divergence(p.data(), r.data(), 3), kl_pr, 1e-7);
  EXPECT_NEAR(kl_divergence(r.data(), p.data(), 3), -std::log(3.0) - (std::log(0.5) + 2 * std::log(0.25)) / 3, 1e-7);

  DivergenceStats s;
  s.add(p.data(), q.data(), 3);
  EXPECT_EQ(s.top1(), 0.0);  // argmax 0 vs 1
  EXPECT_NEAR(s.max_abs_dlogit(), 3 + std::log(2.0), 1e-6);
  s.add(p.data(), p.data(), 3);
  EXPECT_EQ(s.top1(), 0.5);
  EXPECT_NEAR(s.kl_mean(), std::log(2.0) / 8, 1e-7);
  EXPECT_NEAR(s.kl_max(), std::log(2.0) / 4, 1e-7);
}

TEST(DivergenceStats, MatchesNaiveDoubleComputationOnRandomLogits) {
  std::mt19937 rng(7);
  DivergenceStats s;
  std::vector<double> want_kl;
  double want_max_d = 0, sum_d = 0;
  int agree = 0;
  const int vocab = 777, positions = 50;
  for (int pos = 0; pos < positions; ++pos) {
    const std::vector<float> a = test::random_floats(vocab, rng, 4.0f);
    std::vector<float> b = a;
    // A perturbation that grows with the position, so some argmaxes flip.
    const std::vector<float> noise = test::random_floats(vocab, rng, 0.05f * float(pos));
    for (int v = 0; v < vocab; ++v) b[size_t(v)] += noise[size_t(v)];
    s.add(a.data(), b.data(), vocab);
    want_kl.push_back(naive_kl(a, b));
    agree += std::max_element(a.begin(), a.end()) - a.begin() == std::max_element(b.begin(), b.end()) - b.begin();
    for (int v = 0; v < vocab; ++v) {
      const double d = std::fabs(double(a[size_t(v)]) - double(b[size_t(v)]));
      want_max_d = std::max(want_max_d, d);
      sum_d += d;
    }
  }
  ASSERT_EQ(s.count(), positions);
  for (int i = 0; i < positions; ++i) EXPECT_NEAR(s.kl_values()[size_t(i)], want_kl[size_t(i)], 1e-12) << i;
  double mean = 0;
  for (double k : want_kl) mean += k / positions;
  EXPECT_NEAR(s.kl_mean(), mean, 1e-12);
  EXPECT_NEAR(s.kl_max(), *std::max_element(want_kl.begin(), want_kl.end()), 1e-12);
  EXPECT_GT(s.kl_max(), 0.0);
  EXPECT_EQ(s.top1(), double(agree) / positions);
  EXPECT_LT(agree, positions);  // the test covers disagreement
  EXPECT_EQ(s.max_abs_dlogit(), want_max_d);
  EXPECT_NEAR(s.mean_abs_dlogit(), sum_d / (double(positions) * vocab), 1e-12);
  std::vector<double> sorted = want_kl;
  std::sort(sorted.begin(), sorted.end());
  // h = 0.99 * (positions - 1) = 48.51: between the 49th and 50th smallest.
  EXPECT_NEAR(s.kl_quantile(0.99), sorted[48] + 0.51 * (sorted[49] - sorted[48]), 1e-12);
}

TEST(Quantile, InterpolatesBetweenOrderStatistics) {
  std::vector<double> v(100);
  for (int i = 0; i < 100; ++i) v[size_t(i)] = i + 1;  // 1..100
  std::shuffle(v.begin(), v.end(), std::mt19937(3));
  EXPECT_DOUBLE_EQ(quantile(v, 0.99), 99.01);  // h = 98.01: 99 + 0.01 * (100 - 99), as numpy
  EXPECT_DOUBLE_EQ(quantile(v, 0.5), 50.5);
  EXPECT_DOUBLE_EQ(quantile(v, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(quantile(v, 1.0), 100.0);
  EXPECT_DOUBLE_EQ(quantile({5.0}, 0.99), 5.0);
  EXPECT_DOUBLE_EQ(quantile({}, 0.99), 0.0);
  // One outlier among 1000 zeros stays out of p99 but is the max.
  std::vector<double> w(1000, 0.0);
  w[417] = 10.0;
  EXPECT_DOUBLE_EQ(quantile(w, 0.99), 0.0);
  EXPECT_DOUBLE_EQ(quantile(w, 1.0), 10.0);
}

TEST(GreedyMatch, PrefixAndTotal) {
  GreedyMatch m = match_greedy({1, 2, 3, 4, 5}, {1, 2, 9, 4, 5});
  EXPECT_EQ(m.match_prefix, 2);
  EXPECT_EQ(m.match_total, 4);
  EXPECT_EQ(m.n, 5);
  m = match_greedy({1, 2, 3}, {1, 2, 3});
  EXPECT_EQ(m.match_prefix, 3);
  EXPECT_EQ(m.match_total, 3);
  m = match_greedy({7, 2}, {1, 2});
  EXPECT_EQ(m.match_prefix, 0);
  EXPECT_EQ(m.match_total, 1);
}

using test::stories;
using test::wikitext;

std::vector<int32_t> wiki_ids(const Model& m, size_t n) {
  std::string text;
  EXPECT_TRUE(read_text_file(wikitext(), &text));
  std::vector<int32_t> ids = document_ids(m.tokenizer(), text.substr(0, 20000));
  if (ids.size() > n) ids.resize(n);
  return ids;
}

TEST(Compare, ModelAgainstItselfIsExact) {
  if (!fs::exists(stories()) || !fs::exists(wikitext())) GTEST_SKIP() << "../shared not present";
  test::Loaded a = test::load_for_cpu(stories(), 2), b = test::load_for_cpu(stories(), 2);
  ASSERT_TRUE(a.t && b.t);
  ASSERT_TRUE(check_same_vocab(*a.model, *b.model).ok());
  const std::vector<int32_t> ids = wiki_ids(*a.model, 300);
  ASSERT_EQ(ids.size(), 300u);
  auto r = compare_on_text(*a.t, *b.t, ids, 64, 32);
  ASSERT_TRUE(r.ok()) << r.error();
  const TextComparison& c = r.value();
  EXPECT_EQ(c.stats.count(), 299);
  EXPECT_LT(c.stats.kl_max(), 1e-12);
  EXPECT_LT(std::fabs(c.stats.kl_mean()), 1e-12);
  EXPECT_EQ(c.stats.top1(), 1.0);
  EXPECT_EQ(c.stats.max_abs_dlogit(), 0.0);
  EXPECT_EQ(c.ref.ppl, c.test.ppl);
  // The same protocol and figures as `perplexity`.
  auto p = perplexity(*a.t, ids, 64, 32);
  ASSERT_TRUE(p.ok()) << p.error();
  EXPECT_EQ(c.ref.ppl, p->ppl);
  EXPECT_EQ(c.ref.tokens_scored, p->tokens_scored);
  EXPECT_EQ(c.ref.windows, p->windows);

  // Greedy from BOS alone: the ids in ../shared/README.md, from both models.
  const std::vector<int32_t> want = {403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421,
                                     395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292};
  auto ga = greedy_tokens(*a.t, {1}, 24), gb = greedy_tokens(*b.t, {1}, 24);
  ASSERT_TRUE(ga.ok() && gb.ok());
  EXPECT_EQ(ga.value(), want);
  const GreedyMatch m = match_greedy(ga.value(), gb.value());
  EXPECT_EQ(m.match_prefix, 24);
  EXPECT_EQ(m.match_total, 24);
  for (const std::string& prompt : default_greedy_prompts()) {
    const std::vector<int32_t> pid = a.model->tokenizer().encode(prompt, true);
    auto x = greedy_tokens(*a.t, pid, 16), y = greedy_tokens(*b.t, pid, 16);
    ASSERT_TRUE(x.ok() && y.ok());
    EXPECT_EQ(match_greedy(x.value(), y.value()).match_prefix, 16) << prompt;
  }
}

// Logits of every position of ids.
std::vector<float> read_f32(const std::string& path) {
  const std::string bytes = test::read_file(path);
  std::vector<float> v(bytes.size() / 4);
  std::memcpy(v.data(), bytes.data(), v.size() * 4);
  return v;
}

TEST(Compare, F16TwinAgainstF32GivesSmallKl) {
  const std::string f32 = test::test_data("models/tiny_llama/model.gguf");
  const std::string f16 = test::test_data("models/tiny_llama/model_f16.gguf");
  if (!fs::exists(f32) || !fs::exists(f16)) GTEST_SKIP() << "tiny_llama fixtures not present";
  test::Loaded ref = test::load_for_cpu(f32, 2), quant = test::load_for_cpu(f16, 2);
  ASSERT_TRUE(ref.t && quant.t);
  ASSERT_TRUE(check_same_vocab(*ref.model, *quant.model).ok());
  if (fs::exists(wikitext())) {
    const std::vector<int32_t> ids = wiki_ids(*ref.model, 400);
    auto r = compare_on_text(*ref.t, *quant.t, ids, 128, 64);
    ASSERT_TRUE(r.ok()) << r.error();
    const DivergenceStats& s = r->stats;
    EXPECT_EQ(s.count(), int64_t(ids.size()) - 1);
    EXPECT_GT(s.kl_mean(), 1e-9);
    EXPECT_LT(s.kl_mean(), 1e-3);
    EXPECT_LE(s.kl_quantile(0.99), s.kl_max());
    EXPECT_GE(s.kl_quantile(0.99), s.kl_mean());
    EXPECT_GT(s.top1(), 0.95);
    EXPECT_GT(s.max_abs_dlogit(), 0.0);
    EXPECT_LT(s.max_abs_dlogit(), 0.5);
    EXPECT_NE(r->ref.ppl, r->test.ppl);
    EXPECT_NEAR(r->test.ppl / r->ref.ppl, 1.0, 0.01);
  }
  // The same statistics from HF's logits for the two weight sets (tests/data/models/tiny_llama
  // and tiny_llama_f16): the engine's KL should be close to HF's.
  const auto ref_json = nlohmann::json::parse(test::read_file(test::test_data("models/tiny_llama/reference.json")));
  const int vocab = ref.t->config().vocab_size;
  DivergenceStats engine, hf;
  for (size_t k = 0; k < ref_json["prompts"].size(); ++k) {
    const auto& p = ref_json["prompts"][k];
    if (p["logits_file"].is_null()) continue;
    const std::vector<int32_t> ids = p["ids"].get<std::vector<int32_t>>();
    const std::vector<float> a = test::all_logits(*ref.t, ids, 128), b = test::all_logits(*quant.t, ids, 128);
    const std::vector<float> ha = read_f32(test::test_data("models/tiny_llama/" + p["logits_file"].get<std::string>()));
    const std::vector<float> hb =
        read_f32(test::test_data("models/tiny_llama_f16/" + p["logits_file"].get<std::string>()));
    ASSERT_EQ(ha.size(), a.size());
    ASSERT_EQ(hb.size(), b.size());
    for (size_t i = 0; i < ids.size(); ++i) {
      engine.add(a.data() + i * size_t(vocab), b.data() + i * size_t(vocab), vocab);
      hf.add(ha.data() + i * size_t(vocab), hb.data() + i * size_t(vocab), vocab);
    }
  }
  ASSERT_GT(hf.count(), 0);
  EXPECT_GT(engine.kl_mean(), 0.0);
  // Measured: they agree to 5e-5 relative (engine logits match HF's to ~1e-5).
  EXPECT_NEAR(engine.kl_mean(), hf.kl_mean(), 0.01 * hf.kl_mean());
  EXPECT_NEAR(engine.kl_max(), hf.kl_max(), 0.01 * hf.kl_max());
  EXPECT_EQ(engine.top1(), hf.top1());
}

TEST(Compare, RefusesModelsWithDifferentTokenizers) {
  const std::string llama = test::test_data("models/tiny_llama/model.gguf");
  const std::string llama3 = test::test_data("models/tiny_llama3_rope/model.gguf");
  if (!fs::exists(llama) || !fs::exists(llama3)) GTEST_SKIP() << "fixtures not present";
  test::Loaded a = test::load_for_cpu(llama, 2), b = test::load_for_cpu(llama3, 2);
  ASSERT_TRUE(a.model && b.model);
  Status st = check_same_vocab(*a.model, *b.model);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("vocabularies differ"), std::string::npos) << st.error();
  EXPECT_NE(st.error().find(llama3), std::string::npos) << st.error();
  // Same vocabulary size, different tokens: the encodings disagree.
  if (!fs::exists(stories())) GTEST_SKIP() << "../shared not present";
  test::Loaded s = test::load_for_cpu(stories(), 2);
  ASSERT_TRUE(check_same_vocab(*s.model, *a.model).ok());
  const std::string text = "Once upon a time, there was a little girl named Lily.";
  st = check_same_ids(*s.model, *a.model, document_ids(s.model->tokenizer(), text),
                      document_ids(a.model->tokenizer(), text), "the prompt");
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().find("tokenizers disagree on the prompt"), std::string::npos) << st.error();
  EXPECT_TRUE(check_same_ids(*s.model, *s.model, {1, 2}, {1, 2}, "x").ok());
}

}  // namespace
}  // namespace trapetum
