// Context shift, KV export/import, the prompt cache and lazy slot allocation, on stories260K:
// a shifted session equals a fresh one fed the kept tokens, a generation goes on past ctx,
// restored prefixes give the same text, and the cache evicts under its budget.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "common/model_util.h"
#include "common/test_util.h"
#include "runtime/sampler.h"
#include "server/engine.h"
#include "server/job_events.h"
#include "server/prompt_cache.h"

namespace trapetum::server {
namespace {

Done run(Engine& e, const Tokenizer& tok, const std::string& prompt, int max_tokens) {
  auto j = greedy_job(tok, prompt, max_tokens);
  EXPECT_TRUE(e.submit(j));
  return drain(*j);
}

void expect_close(const float* got, const float* want, int vocab, const char* what) {
  for (int v = 0; v < vocab; ++v)
    ASSERT_NEAR(got[v], want[v], 1e-4f * (1 + std::fabs(want[v]))) << what << ", token " << v;
}

class ShiftAndCache : public StoriesTest {
 protected:
  int vocab() const { return m_.t->config().vocab_size; }
  // 48 tokens of real text.
  std::vector<int32_t> text48() const {
    std::vector<int32_t> ids = tok().encode(
        "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her "
        "friend Tom. One day they found a big red ball under a tree and they played with it all day long.",
        true);
    EXPECT_GE(ids.size(), 48u);
    ids.resize(48);
    return ids;
  }
};

// After a shift the cache holds what a fresh session fed exactly the kept tokens holds: the
// next token's logits agree (f32 cache, so only summation order differs).
TEST_F(ShiftAndCache, ShiftedSessionEqualsAFreshOneOfTheKeptTokens) {
  const std::vector<int32_t> ids = text48();
  auto s = Session::create(*m_.t, 48, Session::kDefaultMaxBatch, KvType::kF32);
  ASSERT_TRUE(s.ok());
  ASSERT_TRUE(s.value()->eval(ids).ok());
  ASSERT_TRUE(s.value()->shift(4, 22).ok());
  std::vector<int32_t> kept(ids.begin(), ids.begin() + 4);
  kept.insert(kept.end(), ids.begin() + 26, ids.end());
  EXPECT_EQ(s.value()->history(), kept);
  const int32_t next = 300;
  auto got = s.value()->eval({&next, 1});
  ASSERT_TRUE(got.ok());
  const std::vector<float> shifted(got.value(), got.value() + vocab());
  auto fresh = Session::create(*m_.t, 48, Session::kDefaultMaxBatch, KvType::kF32);
  ASSERT_TRUE(fresh.ok());
  kept.push_back(next);
  auto want = fresh.value()->eval(kept);
  ASSERT_TRUE(want.ok());
  expect_close(shifted.data(), want.value(), vocab(), "after shift");
  // Bad arguments are errors, not crashes.
  EXPECT_FALSE(s.value()->shift(4, 100).ok());
  EXPECT_FALSE(s.value()->shift(-1, 2).ok());
}

// export_kv / import_kv: a session restored from another's bytes (a prefix of them) continues
// exactly like the original truncated to that prefix.
TEST_F(ShiftAndCache, ExportImportRoundTrip) {
  const std::vector<int32_t> ids = text48();
  for (KvType type : {KvType::kF16, KvType::kQ8}) {
    auto a = Session::create(*m_.t, 64, Session::kDefaultMaxBatch, type);
    auto b = Session::create(*m_.t, 64, Session::kDefaultMaxBatch, type);
    ASSERT_TRUE(a.ok() && b.ok());
    ASSERT_TRUE(a.value()->eval(ids).ok());
    auto bytes = a.value()->export_kv(40);
    ASSERT_TRUE(bytes.ok()) << bytes.error();
    EXPECT_EQ(int64_t(bytes.value().size()), a.value()->kv_bytes(40));
    ASSERT_TRUE(b.value()->import_kv(std::span<const int32_t>(ids).first(31), 40, bytes.value()).ok());
    EXPECT_EQ(b.value()->position(), 31);
    a.value()->truncate(31);
    const int32_t next = ids[31];
    auto la = a.value()->eval({&next, 1});
    ASSERT_TRUE(la.ok());
    const std::vector<float> want(la.value(), la.value() + vocab());
    auto lb = b.value()->eval({&next, 1});
    ASSERT_TRUE(lb.ok());
    for (int v = 0; v < vocab(); ++v) ASSERT_EQ(lb.value()[v], want[v]) << kv_type_name(type) << " token " << v;
    EXPECT_FALSE(b.value()->import_kv(ids, 40, bytes.value()).ok());  // more tokens than stored
    EXPECT_FALSE(a.value()->export_kv(100).ok());
  }
}

// With --context-shift a generation runs past ctx and gives the text a by-hand loop of the same
// shifts gives; without it, it stops with "length" where the context is full.
TEST_F(ShiftAndCache, ContextShiftGoesOnPastTheContext) {
  const int ctx = 32, keep = 4, n = 120;
  const std::string prompt = "Once upon a time";
  EngineOptions o;
  o.ctx = ctx;
  o.context_shift = true;
  o.keep = keep;
  auto e = Engine::create(*m_.t, o);
  ASSERT_TRUE(e.ok()) << e.error();
  const Done d = run(*e.value(), tok(), prompt, n);
  EXPECT_EQ(d.last.kind, Event::Kind::kDone);
  EXPECT_GT(d.last.completion_tokens, 2 * ctx) << d.text;
  EXPECT_GE(e.value()->stats().context_shifts, 2);

  // The same loop by hand: greedy, one-token batches as the engine runs them.
  auto s = Session::create(*m_.t, ctx);
  ASSERT_TRUE(s.ok());
  Session& ses = *s.value();
  auto act = Activations::create(m_.t->backend(), m_.t->config(), 1);
  ASSERT_TRUE(act.ok());
  auto first = ses.eval(tok().encode(prompt, true));
  ASSERT_TRUE(first.ok());
  std::vector<float> logits(first.value(), first.value() + vocab());
  StreamDecoder dec(tok(), true);
  std::string text;
  int generated = 0;
  std::string reason = "length";
  for (;;) {
    const int32_t id = int32_t(std::max_element(logits.begin(), logits.end()) - logits.begin());
    ++generated;
    if (tok().is_end_of_generation(id)) {
      reason = "stop";
      break;
    }
    text += dec.push(id);
    if (generated >= n) break;
    if (ses.position() >= ctx) {
      const int k = std::min(keep, ses.position() - 1);
      ASSERT_TRUE(ses.shift(k, (ses.position() - k) / 2).ok());
    }
    Session* one[] = {&ses};
    ASSERT_TRUE(Session::eval_batch(one, std::vector<int32_t>{id}, act.value(), &logits).ok());
  }
  text += dec.flush();
  EXPECT_EQ(d.text, text);
  EXPECT_EQ(d.last.completion_tokens, generated);
  EXPECT_EQ(d.last.finish_reason, reason);

  EngineOptions plain;
  plain.ctx = ctx;
  auto p = Engine::create(*m_.t, plain);
  ASSERT_TRUE(p.ok());
  const Done dp = run(*p.value(), tok(), prompt, 0);
  EXPECT_EQ(dp.last.finish_reason, "length");
  EXPECT_EQ(dp.last.prompt_tokens + dp.last.completion_tokens, ctx);
  EXPECT_EQ(p.value()->stats().context_shifts, 0);

  o.keep = ctx;  // more than half the context: refused
  EXPECT_FALSE(Engine::create(*m_.t, o).ok());
}

// One slot, prompts A, B, A: B takes A's slot, A's prefix goes to the prompt cache, and the
// second A restores it (cached_tokens = all but the last prompt token) with the same text.
TEST_F(ShiftAndCache, PromptCacheRestoresAPrefixTheSlotGaveUp) {
  EngineOptions o;
  o.ctx = 256;
  auto e = Engine::create(*m_.t, o);
  ASSERT_TRUE(e.ok());
  Engine& eng = *e.value();
  EXPECT_EQ(eng.stats().slots_allocated, 0);  // allocated on first use
  const std::string a = "Lily and Tom went to the park to play with a big red ball", b = "The dog barked at the cat";
  const Done d1 = run(eng, tok(), a, 12);
  EXPECT_EQ(eng.stats().slots_allocated, 1);
  const Done d2 = run(eng, tok(), b, 12);
  EXPECT_LE(d2.last.cached_tokens, 1);
  EXPECT_EQ(eng.stats().cache_entries, 1);
  const Done d3 = run(eng, tok(), a, 12);
  EXPECT_EQ(d3.last.cached_tokens, d1.last.prompt_tokens - 1);
  EXPECT_EQ(d3.text, d1.text);
  const EngineStats s = eng.stats();
  EXPECT_EQ(s.cache_hits, 1);
  EXPECT_EQ(s.cache_tokens_restored, d1.last.prompt_tokens - 1);
  EXPECT_GT(s.cache_bytes, 0);

  // Without the cache the third prompt is prefilled again.
  o.cache_bytes = 0;
  auto off = Engine::create(*m_.t, o);
  ASSERT_TRUE(off.ok());
  run(*off.value(), tok(), a, 12);
  run(*off.value(), tok(), b, 12);
  const Done again = run(*off.value(), tok(), a, 12);
  EXPECT_LE(again.last.cached_tokens, 1);
  EXPECT_EQ(again.text, d1.text);
  EXPECT_EQ(off.value()->stats().cache_entries, 0);
}

// A budget that holds one entry: A, B, C leave B's prefix only (A's was evicted), so A is
// prefilled again; the cache never holds more bytes than its budget.
TEST_F(ShiftAndCache, PromptCacheEvictsTheLeastRecentlyUsed) {
  const std::vector<std::string> p = {"Lily went to the park with her mom", "The big dog ran to the red ball",
                                      "Tom had a toy car that was blue"};
  const int gen = 8;
  int64_t largest = 0, smallest = INT64_MAX;
  for (const auto& s : p) {
    const int64_t b = KvCache::bytes_needed(m_.t->config(), int(tok().encode(s, true).size()) + gen - 1, KvType::kF16);
    largest = std::max(largest, b), smallest = std::min(smallest, b);
  }
  EngineOptions o;
  o.ctx = 128;
  o.cache_bytes = size_t(largest + largest / 4);
  ASSERT_LT(int64_t(o.cache_bytes), 2 * smallest) << "the prompts must be about as long";
  auto e = Engine::create(*m_.t, o);
  ASSERT_TRUE(e.ok());
  Engine& eng = *e.value();
  for (const auto& s : p) run(eng, tok(), s, gen);
  EngineStats st = eng.stats();
  EXPECT_EQ(st.cache_entries, 1);
  EXPECT_EQ(st.cache_evictions, 1);
  EXPECT_LE(st.cache_bytes, int64_t(o.cache_bytes));
  const Done d = run(eng, tok(), p[0], gen);
  EXPECT_LE(d.last.cached_tokens, 1);
  EXPECT_EQ(eng.stats().cache_hits, 0);
  const Done d2 = run(eng, tok(), p[2], gen);  // C went to the cache when A took the slot
  EXPECT_GT(d2.last.cached_tokens, 5);
  EXPECT_EQ(eng.stats().cache_hits, 1);
}

TEST(PromptCache, LongestPrefixLruAndBudget) {
  auto entry = [](std::vector<int32_t> t) {
    return PromptCache::Entry{t, std::vector<uint8_t>(t.size() * 10)};
  };
  PromptCache c(100);
  c.put(entry({1, 2, 3}));
  c.put(entry({1, 2, 3, 4, 5}));  // covers the first: it goes
  EXPECT_EQ(c.entries(), 1u);
  c.put(entry({1, 2}));  // already covered: nothing changes
  EXPECT_EQ(c.entries(), 1u);
  EXPECT_EQ(c.bytes(), 50u);
  c.put(entry({1, 7, 7, 7}));
  size_t len = 0;
  const PromptCache::Entry* hit = c.find(std::vector<int32_t>{1, 2, 3, 9}, &len);
  ASSERT_TRUE(hit);
  EXPECT_EQ(len, 3u);
  EXPECT_EQ(hit->tokens.size(), 5u);
  EXPECT_FALSE(c.find(std::vector<int32_t>{4}, &len));
  // {1,2,3,4,5} was used last, so {1,7,7,7} goes first when the budget runs out.
  c.put(entry({2, 2, 2, 2, 2}));
  EXPECT_EQ(c.entries(), 2u);
  EXPECT_EQ(c.evictions(), 1);
  EXPECT_FALSE(c.find(std::vector<int32_t>{1, 7}, &len) && len == 2);
  EXPECT_LE(c.bytes(), c.budget());
  c.put(entry(std::vector<int32_t>(11, 3)));  // larger than the budget: not stored
  EXPECT_EQ(c.entries(), 2u);
}

}  // namespace
}  // namespace trapetum::server
