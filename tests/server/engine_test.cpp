// The server's engine on stories260K: interleaved slots give the same greedy text as a plain
// session, cancellation frees the slot, a full queue refuses, prompts reuse cached prefixes,
// and stop sequences cut the text before them.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "common/model_util.h"
#include "common/test_util.h"
#include "runtime/generate.h"
#include "server/engine.h"
#include "server/job_events.h"

namespace trapetum::server {
namespace {

class EngineTest : public StoriesTest {
 protected:
  std::string greedy(const std::string& prompt, int n) {
    auto s = Session::create(*m_.t, 256);
    SamplerParams p;
    p.temperature = 0;
    Sampler sampler(p);
    GenerateOptions o;
    o.max_tokens = n;
    auto r = generate(*s.value(), tok(), tok().encode(prompt, true), sampler, o, [](const std::string&) { return true; });
    EXPECT_TRUE(r.ok());
    return r.ok() ? r.value().text : "";
  }
};

TEST_F(EngineTest, InterleavedSlotsMatchAPlainSession) {
  EngineOptions o;
  o.parallel = 3;
  o.ctx = 256;
  auto e = Engine::create(*m_.t, o);
  ASSERT_TRUE(e.ok()) << e.error();
  const std::vector<std::string> prompts = {"Once upon a time", "The cat", "Lily and Tom went to the park"};
  std::vector<std::shared_ptr<Job>> jobs;
  for (const auto& p : prompts) {
    jobs.push_back(greedy_job(tok(), p, 30));
    ASSERT_TRUE(e.value()->submit(jobs.back()));
  }
  // Every job first: the plain sessions below share the engine's backend (and its scratch),
  // so they must not run while the engine is still stepping.
  std::vector<Done> done;
  for (auto& j : jobs) done.push_back(drain(*j));
  for (size_t i = 0; i < jobs.size(); ++i) {
    const Done& d = done[i];
    EXPECT_EQ(d.last.kind, Event::Kind::kDone);
    EXPECT_EQ(d.text, greedy(prompts[i], 30)) << prompts[i];
    EXPECT_EQ(d.last.completion_tokens, 30);
    EXPECT_EQ(d.last.finish_reason, "length");
  }
}

TEST_F(EngineTest, CancelFreesTheSlotAndAFullQueueRefuses) {
  EngineOptions o;
  o.parallel = 1;
  o.ctx = 256;
  o.max_queue = 1;
  auto e = Engine::create(*m_.t, o);
  ASSERT_TRUE(e.ok());
  Engine& eng = *e.value();
  auto a = greedy_job(tok(), "Once upon a time", 200);
  ASSERT_TRUE(eng.submit(a));
  Event first;
  ASSERT_TRUE(a->next(&first, 5000));  // a holds the only slot now
  auto b = greedy_job(tok(), "The dog", 5);
  ASSERT_TRUE(eng.submit(b));   // waits in the queue
  auto c = greedy_job(tok(), "The bird", 5);
  EXPECT_FALSE(eng.submit(c));  // the queue is full
  a->cancel();
  const Done db = drain(*b);  // b runs once a is gone
  EXPECT_EQ(db.last.kind, Event::Kind::kDone);
  const EngineStats s = eng.stats();
  EXPECT_EQ(s.requests_cancelled, 1);
  EXPECT_EQ(s.active, 0);
  EXPECT_EQ(s.queued, 0);
}

TEST_F(EngineTest, RepeatedPromptReusesTheCachedPrefix) {
  EngineOptions o;
  o.parallel = 2;
  o.ctx = 256;
  auto e = Engine::create(*m_.t, o);
  ASSERT_TRUE(e.ok());
  auto a = greedy_job(tok(), "Lily and Tom went to the park to play", 4);
  ASSERT_TRUE(e.value()->submit(a));
  const Done da = drain(*a);
  EXPECT_EQ(da.last.cached_tokens, 0);
  auto b = greedy_job(tok(), "Lily and Tom went to the park to play", 4);
  ASSERT_TRUE(e.value()->submit(b));
  const Done db = drain(*b);
  EXPECT_EQ(db.last.cached_tokens, int(b->prompt().size()) - 1);
  EXPECT_EQ(db.text, da.text);
}

TEST_F(EngineTest, StopSequenceEndsTheTextBeforeIt) {
  const std::string full = greedy("Once upon a time", 40);
  const size_t at = full.find("girl");
  ASSERT_NE(at, std::string::npos) << full;
  EngineOptions o;
  o.ctx = 256;
  auto e = Engine::create(*m_.t, o);
  ASSERT_TRUE(e.ok());
  auto a = greedy_job(tok(), "Once upon a time", 40, {"zzz", "girl"});
  ASSERT_TRUE(e.value()->submit(a));
  const Done d = drain(*a);
  EXPECT_EQ(d.last.finish_reason, "stop");
  EXPECT_EQ(d.text, full.substr(0, at));
}

}  // namespace
}  // namespace trapetum::server

namespace trapetum {
namespace {

// Batched decode: one forward call for several sessions at different positions gives each the
// logits it gets alone (exact mode; 5 sessions take the prefill tile path, 2 the GEMV).
TEST(EvalBatch, MatchesEachSessionAlone) {
  if (!std::filesystem::exists(test::stories())) GTEST_SKIP() << "../shared not present";
  test::Loaded m = test::load_for_cpu(test::stories(), 2);
  ASSERT_TRUE(m.t);
  const Tokenizer& tok = m.model->tokenizer();
  const std::vector<std::string> prompts = {"Once upon a time", "The", "Lily had a red ball and", "Tom", "A big dog ran"};
  for (size_t n : {size_t(2), prompts.size()}) {
    std::vector<std::unique_ptr<Session>> batch, alone;
    std::vector<Session*> ptrs;
    std::vector<int32_t> next;
    for (size_t i = 0; i < n; ++i) {
      for (auto* v : {&batch, &alone}) {
        auto s = Session::create(*m.t, 64);
        ASSERT_TRUE(s.ok());
        ASSERT_TRUE(s.value()->eval(tok.encode(prompts[i], true)).ok());
        v->push_back(std::move(s.value()));
      }
      ptrs.push_back(batch.back().get());
      next.push_back(int32_t(100 + 37 * i));
    }
    auto act = Activations::create(m.t->backend(), m.t->config(), int(n));
    ASSERT_TRUE(act.ok());
    std::vector<float> logits;
    for (int round = 0; round < 3; ++round) {  // positions advance differently per session
      ASSERT_TRUE(Session::eval_batch(ptrs, next, act.value(), &logits).ok());
      const size_t vocab = size_t(m.t->config().vocab_size);
      for (size_t i = 0; i < n; ++i) {
        auto want = alone[i]->eval({&next[i], 1});
        ASSERT_TRUE(want.ok());
        EXPECT_EQ(batch[i]->history(), alone[i]->history());
        for (size_t v = 0; v < vocab; ++v)
          ASSERT_NEAR(logits[i * vocab + v], want.value()[v], 1e-4f * (1 + std::fabs(want.value()[v])))
              << "session " << i << " round " << round << " token " << v;
      }
      for (size_t i = 0; i < n; ++i) next[i] = int32_t((next[i] * 7 + 3) % 500);
    }
  }
  // A session twice in one batch is an error.
  auto s = Session::create(*m.t, 16);
  ASSERT_TRUE(s.ok());
  auto act = Activations::create(m.t->backend(), m.t->config(), 2);
  std::vector<Session*> twice = {s.value().get(), s.value().get()};
  std::vector<float> logits;
  EXPECT_FALSE(Session::eval_batch(twice, std::vector<int32_t>{1, 2}, act.value(), &logits).ok());
}

}  // namespace
}  // namespace trapetum
