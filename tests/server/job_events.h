// Test helpers for the server's engine: a fixture holding stories260K, a greedy job, and a
// job's events collected until it ends.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/model_util.h"
#include "common/test_util.h"
#include "server/engine.h"
#include "tokenizer/tokenizer.h"

namespace trapetum::server {

// stories260K on one CPU thread; the test skips where ../shared is absent.
class StoriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(test::stories())) GTEST_SKIP() << "../shared not present";
    m_ = test::load_for_cpu(test::stories(), 1);
    ASSERT_TRUE(m_.t);
  }
  const Tokenizer& tok() const { return m_.model->tokenizer(); }
  test::Loaded m_;
};

// A greedy (temperature 0) job for prompt, ending at max_tokens or a stop sequence.
inline std::shared_ptr<Job> greedy_job(const Tokenizer& tok, const std::string& prompt, int max_tokens,
                                       std::vector<std::string> stop = {}) {
  GenRequest r;
  r.prompt = prompt;
  r.max_tokens = max_tokens;
  r.temperature = 0;
  r.stop = std::move(stop);
  return std::make_shared<Job>(r, tok.encode(prompt, true));
}

struct Done {
  std::string text;  // every kText event, joined
  Event last;        // the event that ended the job
};

// Collects a job's events until it ends (or 60 s pass, a test failure).
inline Done drain(Job& job) {
  Done d;
  for (int waited = 0; waited < 600;) {
    Event e;
    if (!job.next(&e, 100)) {
      ++waited;
      continue;
    }
    if (e.kind == Event::Kind::kStarted) continue;
    if (e.kind == Event::Kind::kText) {
      d.text += e.text;
      continue;
    }
    d.last = e;
    return d;
  }
  ADD_FAILURE() << "the job did not finish";
  return d;
}

}  // namespace trapetum::server
