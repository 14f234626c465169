// `trapetum compare` as a user runs it: help, one-line errors that name the file or the
// mismatch, the JSON report, the table, and a prompt file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
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

namespace fs = std::filesystem;

using test::stories;
using test::wikitext;
std::string fixture(const std::string& rel) { return test::test_data("models/" + rel); }

#define REQUIRE_STORIES()                                                          \
  if (!fs::exists(stories()) || !fs::exists(wikitext())) GTEST_SKIP() << "../shared not present"

TEST(CompareCli, Help) {
  CliRun r = run_cli("compare --help");
  EXPECT_EQ(r.code, 0);
  for (const char* opt : {"Usage", "--ref", "--prompts", "--greedy-tokens", "--stride", "--json"})
    EXPECT_NE(r.out.find(opt), std::string::npos) << opt << ": " << r.out;
  CliRun top = run_cli("--help");
  EXPECT_NE(top.out.find("compare"), std::string::npos) << top.out;
}

TEST(CompareCli, MissingFilesAreNamed) {
  const std::string m = fixture("tiny_llama/model.gguf");
  expect_one_line_error(run_cli("compare -m /no/such/quant.gguf --ref " + m), {"/no/such/quant.gguf"});
  expect_one_line_error(run_cli("compare -m " + m + " --ref /no/such/ref.gguf"), {"/no/such/ref.gguf"});
  expect_one_line_error(run_cli("compare -m " + m + " --ref " + m + " -f /no/such.txt"), {"/no/such.txt"});
  expect_one_line_error(run_cli("compare -m " + m + " --ref " + m + " --prompts /no/prompts.txt"),
                        {"/no/prompts.txt"});
  expect_one_line_error(run_cli("compare -m " + m + " --ref " + m + " --greedy-tokens 0"), {"nothing to compare"});
  EXPECT_NE(run_cli("compare -m " + m).code, 0);  // --ref is required
}

TEST(CompareCli, MismatchedVocabulariesAreRefused) {
  const std::string llama = fixture("tiny_llama/model.gguf"), llama3 = fixture("tiny_llama3_rope/model.gguf");
  expect_one_line_error(run_cli("compare -m " + llama3 + " --ref " + llama),
                        {"vocabularies differ", llama, llama3, "512 tokens", "384 tokens"});
  // stories260K and tiny_llama both have 512 tokens, but not the same ones.
  if (fs::exists(stories())) {
    expect_one_line_error(run_cli("compare -m " + llama + " --ref " + stories()), {"tokenizers disagree", "prompt 1"});
    expect_one_line_error(run_cli("compare -m " + llama + " --ref " + stories() + " -f " + wikitext() +
                                  " --greedy-tokens 0"),
                          {"tokenizers disagree", wikitext()});
  }
  const char* smollm2 = std::getenv("TRAPETUM_SMOLLM2_GGUF");
  if (smollm2 && fs::exists(smollm2) && fs::exists(stories()))
    expect_one_line_error(run_cli("compare -m " + std::string(smollm2) + " --ref " + stories()),
                          {"vocabularies differ", "49152 tokens", "512 tokens"});
}

TEST(CompareCli, SelfComparisonJson) {
  REQUIRE_STORIES();
  CliRun r = run_cli("compare -m " + stories() + " --ref " + stories() + " -f " + wikitext() +
                     " --ctx 64 --stride 32 --max-tokens 200 --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["tokens"].get<int>(), 200);
  EXPECT_EQ(j["positions"].get<int>(), 199);
  EXPECT_LT(j["kl_max"].get<double>(), 1e-12);
  EXPECT_LT(std::abs(j["kl_mean"].get<double>()), 1e-12);
  EXPECT_LT(j["kl_p99"].get<double>(), 1e-12);
  EXPECT_EQ(j["top1"].get<double>(), 1.0);
  EXPECT_EQ(j["max_abs_dlogit"].get<double>(), 0.0);
  EXPECT_EQ(j["ppl_ref"].get<double>(), j["ppl_quant"].get<double>());
  // The same perplexity as `trapetum perplexity` under the same protocol.
  CliRun p = run_cli("perplexity -m " + stories() + " -f " + wikitext() +
                     " --ctx 64 --stride 32 --max-tokens 200 --json");
  ASSERT_EQ(p.code, 0) << p.err;
  EXPECT_EQ(j["ppl_ref"].get<double>(), nlohmann::json::parse(p.out)["ppl"].get<double>());
  ASSERT_EQ(j["greedy"].size(), 8u);
  for (const auto& g : j["greedy"]) {
    EXPECT_EQ(g["n"].get<int>(), 16);
    EXPECT_EQ(g["match_prefix"].get<int>(), 16) << g["prompt"];
    EXPECT_EQ(g["match_total"].get<int>(), 16);
    EXPECT_FALSE(g["prompt"].get<std::string>().empty());
  }
  EXPECT_EQ(j["greedy_full_match"].get<int>(), 8);
}

TEST(CompareCli, TableAndPromptFile) {
  REQUIRE_STORIES();
  test::TempDir dir;
  const std::string prompts = dir.write("prompts.txt", "Once upon a time\r\n\nThe cat sat\n");
  const std::string args = "compare -m " + stories() + " --ref " + stories() + " --prompts " + prompts;
  CliRun r = run_cli(args + " --greedy-tokens 5");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("5/5 on 2 of 2 prompts"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("KL"), std::string::npos) << r.out;  // no text given
  CliRun j = run_cli(args + " --greedy-tokens 5 --json");
  ASSERT_EQ(j.code, 0) << j.err;
  auto json = nlohmann::json::parse(j.out);
  ASSERT_EQ(json["greedy"].size(), 2u);
  EXPECT_EQ(json["greedy"][0]["prompt"], "Once upon a time");
  EXPECT_EQ(json["greedy"][1]["n"], 5);
  EXPECT_TRUE(json["kl_mean"].is_null());
  const std::string empty = dir.write("empty.txt", "\n\n");
  expect_one_line_error(run_cli("compare -m " + stories() + " --ref " + stories() + " --prompts " + empty),
                        {empty, "no prompts"});
}

TEST(CompareCli, F16AgainstF32) {
  if (!fs::exists(wikitext())) GTEST_SKIP() << "../shared not present";
  const std::string args = "compare -m " + fixture("tiny_llama/model_f16.gguf") + " --ref " +
                           fixture("tiny_llama/model.gguf") + " -f " + wikitext() + " --max-tokens 300 --ctx 128";
  CliRun r = run_cli(args + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_GT(j["kl_mean"].get<double>(), 0.0);
  EXPECT_LT(j["kl_mean"].get<double>(), 1e-3);
  EXPECT_GE(j["kl_max"].get<double>(), j["kl_p99"].get<double>());
  EXPECT_GT(j["top1"].get<double>(), 0.95);
  EXPECT_GT(j["max_abs_dlogit"].get<double>(), 0.0);
  EXPECT_NEAR(j["bits_per_weight_quant"].get<double>(), 16.0, 0.5);
  CliRun table = run_cli(args);
  ASSERT_EQ(table.code, 0) << table.err;
  for (const char* s : {"perplexity", "KL(ref||model)", "top-1 agreement", "delta logit", "prompts"})
    EXPECT_NE(table.out.find(s), std::string::npos) << s << ": " << table.out;
}

}  // namespace
}  // namespace trapetum
