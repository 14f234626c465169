// The trapetum CLI as a user runs it: --help everywhere, JSON reports, seeds, and one-line
// errors with a non-zero exit code.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sys/wait.h>

#include "common/cli_util.h"
#include "common/test_util.h"

namespace trapetum {
namespace {

using test::CliRun;
using test::expect_one_line_error;
using test::run_cli;

using test::stories;

#define REQUIRE_STORIES()                                                          \
  if (!std::filesystem::exists(stories())) GTEST_SKIP() << "../shared not present"

TEST(Cli, HelpForEveryCommand) {
  for (const char* c : {"", "run", "inspect", "perplexity"}) {
    CliRun r = run_cli(std::string(c) + " --help");
    EXPECT_EQ(r.code, 0) << c;
    EXPECT_NE(r.out.find("Usage"), std::string::npos) << c << ": " << r.out;
  }
}

TEST(Cli, RunGreedyJsonOnStories260K) {
  REQUIRE_STORIES();
  CliRun r = run_cli("run -m " + stories() + " -p '' -n 24 --temp 0 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  // Greedy from BOS alone, as the independent float64 implementation in ../shared/README.md gives.
  const std::vector<int> want = {403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421,
                                 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292};
  EXPECT_EQ(j["generated_ids"].get<std::vector<int>>(), want);
  EXPECT_EQ(j["prompt_ids"].get<std::vector<int>>(), std::vector<int>{1});
  EXPECT_EQ(j["text"].get<std::string>().rfind(" Once upon a time, there was a little girl named Lily.", 0), 0u)
      << j["text"];
  for (const char* k : {"prefill_tok_s", "decode_tok_s", "load_s", "peak_rss_mb"}) {
    ASSERT_TRUE(j.contains(k)) << k;
    EXPECT_GT(j[k].get<double>(), 0.0) << k;
  }
}

TEST(Cli, KvTypeOptionIsReported) {
  REQUIRE_STORIES();
  const std::string run = "run -m " + stories() + " -p '' -n 8 --temp 0 --json";
  for (const char* t : {"f16", "q8", "f32"}) {
    CliRun r = run_cli(run + " --kv-type " + t);
    ASSERT_EQ(r.code, 0) << t << ": " << r.err;
    EXPECT_EQ(nlohmann::json::parse(r.out)["kv_type"], t);
  }
  CliRun d = run_cli(run);
  ASSERT_EQ(d.code, 0) << d.err;
  EXPECT_EQ(nlohmann::json::parse(d.out)["kv_type"], "f16");
  CliRun b = run_cli("bench -m " + stories() + " -p 8 -n 4 -r 1 --bandwidth-mb 16 --json --kv-type q8");
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_EQ(nlohmann::json::parse(b.out)["kv_type"], "q8");
  CliRun bad = run_cli(run + " --kv-type q4");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("--kv-type"), std::string::npos) << bad.err;
}

TEST(Cli, SameSeedSameOutput) {
  REQUIRE_STORIES();
  const std::string args = "run -m " + stories() + " -p 'The dog' -n 30 --temp 1.0 --json --seed ";
  CliRun a = run_cli(args + "7"), b = run_cli(args + "7"), c = run_cli(args + "8");
  ASSERT_EQ(a.code, 0) << a.err;
  auto ids = [](const CliRun& r) { return nlohmann::json::parse(r.out)["generated_ids"].get<std::vector<int>>(); };
  EXPECT_EQ(ids(a), ids(b));
  EXPECT_NE(ids(a), ids(c));
}

TEST(Cli, StreamsTextWithoutJson) {
  REQUIRE_STORIES();
  CliRun r = run_cli("run -m " + stories() + " -p 'Once upon a time' -n 10 --temp 0");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("Once upon a time, there was", 0), 0u) << r.out;
}

TEST(Cli, InspectJson) {
  REQUIRE_STORIES();
  CliRun r = run_cli("inspect " + stories() + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["config"]["architecture"], "llama");
  EXPECT_EQ(j["config"]["dim"], 64);
  EXPECT_EQ(j["config"]["n_layers"], 5);
  EXPECT_EQ(j["config"]["n_kv_heads"], 4);
  EXPECT_EQ(j["tokenizer"]["vocab_size"], 512);
  EXPECT_DOUBLE_EQ(j["bits_per_weight"].get<double>(), 32.0);
  EXPECT_EQ(j["tensors"].size(), j["n_tensors"].get<size_t>());
  CliRun text = run_cli("inspect " + stories());
  EXPECT_NE(text.out.find("blk.0.attn_q.weight"), std::string::npos);
}

TEST(Cli, PerplexityJson) {
  REQUIRE_STORIES();
  const std::string wiki = test::shared("data/wikitext-2/wikitext-2-raw-v1.test.txt");
  CliRun r = run_cli("perplexity -m " + stories() + " -f " + wiki + " --ctx 64 --stride 32 --max-tokens 200 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j["ppl"].get<double>(), 1.0);
  EXPECT_EQ(j["tokens_scored"].get<int>(), 199);
  EXPECT_GT(j["seconds"].get<double>(), 0.0);
}

TEST(Cli, ErrorsAreOneLineAndNameTheProblem) {
  REQUIRE_STORIES();
  expect_one_line_error(run_cli("run -m /no/such/model.gguf -p hi"), {"/no/such/model.gguf", "no such file"});
  expect_one_line_error(run_cli("inspect /no/such/dir"), {"/no/such/dir"});
  test::TempDir dir;
  const std::string bytes = test::read_file(stories());
  const std::string trunc = dir.write("trunc.gguf", bytes.substr(0, bytes.size() / 3));
  expect_one_line_error(run_cli("run -m " + trunc + " -p hi"), {trunc, "runs past the end of the file"});
  std::string long_prompt;
  for (int i = 0; i < 50; ++i) long_prompt += "once upon a time ";
  expect_one_line_error(run_cli("run -m " + stories() + " --ctx 16 -p '" + long_prompt + "'"),
                        {"longer than the context of 16 tokens"});
  expect_one_line_error(run_cli("run -m " + stories() + " -p hi --temp -1"), {"temperature"});
  expect_one_line_error(run_cli("perplexity -m " + stories() + " -f /no/such.txt"), {"/no/such.txt"});
  CliRun bad_flag = run_cli("run --bogus");
  EXPECT_NE(bad_flag.code, 0);
}

}  // namespace
}  // namespace trapetum
