// `trapetum report` as a user runs it: help, one-line errors, and a small sweep of stories260K
// whose table, JSON and ordering (q8 closer to the source than q4g64) are checked.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/cli_util.h"
#include "common/test_util.h"
#include "core/str.h"

namespace trapetum {
namespace {

using test::CliRun;
using test::expect_one_line_error;
using test::run_cli;

namespace fs = std::filesystem;

using test::stories;
using test::wikitext;

TEST(ReportCli, Help) {
  CliRun r = run_cli("report --help");
  EXPECT_EQ(r.code, 0);
  for (const char* opt : {"Usage", "--codecs", "--recipes", "--target-bpw", "--outliers-variants", "--ctx", "--stride",
                          "--max-tokens", "--greedy-tokens", "--name", "--out-dir", "--keep", "--threads"})
    EXPECT_NE(r.out.find(opt), std::string::npos) << opt << ": " << r.out;
  EXPECT_NE(run_cli("--help").out.find("report"), std::string::npos);
}

TEST(ReportCli, ErrorsAreOneLine) {
  test::TempDir d;
  const std::string out = " --out-dir " + d.path();
  expect_one_line_error(run_cli("report -m /no/such/model.gguf -f /etc/hostname" + out), {"/no/such/model.gguf"});
  if (!fs::exists(stories())) GTEST_SKIP() << "../shared not present";
  expect_one_line_error(run_cli("report -m " + stories() + " -f /no/such.txt" + out), {"/no/such.txt"});
  expect_one_line_error(run_cli("report -m " + stories() + " -f " + wikitext() + " --codecs q9" + out),
                        {"--codecs", "q9"});
  expect_one_line_error(run_cli("report -m " + stories() + " -f " + wikitext() + " --recipes nope" + out),
                        {"--recipes", "nope"});
  expect_one_line_error(run_cli("report -m " + stories() + " -f " + wikitext() +
                                " --codecs '' --recipes '' --target-bpw '' --outliers-variants ''" + out),
                        {"no variants"});
  expect_one_line_error(run_cli("report -m " + stories() + " -f " + wikitext() + " --ctx 64 --stride 128" + out),
                        {"--stride"});
  EXPECT_TRUE(fs::is_empty(d.path()));
}

TEST(ReportCli, SmallSweepOfStories) {
  if (!fs::exists(stories()) || !fs::exists(wikitext())) GTEST_SKIP() << "../shared not present";
  test::TempDir d;
  const std::string keep = d.path() + "/cbk";
  CliRun r = run_cli("report -m " + stories() + " -f " + wikitext() +
                     " --max-tokens 512 --ctx 128 --stride 64 --codecs q8,q4g64 --recipes '' --target-bpw ''"
                     " --outliers-variants '' --greedy-tokens 4 --threads 2 --name tiny --keep " +
                     keep + " --out-dir " + d.path());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("q4g64: quantize"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(keep + "/q8.cbk"));
  EXPECT_TRUE(fs::exists(keep + "/q4g64.cbk"));

  std::string md;
  ASSERT_TRUE(read_text_file(d.path() + "/press-tiny.md", &md));
  EXPECT_NE(md.find("| variant | bits/weight | file MB | ppl | Δppl | KL mean | KL p99 | top-1 % | greedy 4/4 prompts"),
            std::string::npos)
      << md;
  int rows = 0;
  bool q8_row = false, q4_row = false;
  for (size_t at = 0; (at = md.find("\n| ", at)) != std::string::npos; ++at) {
    const std::string line = md.substr(at + 1, md.find('\n', at + 1) - at - 1);
    if (starts_with(line, "| variant") || starts_with(line, "|---")) continue;
    ++rows;
    q8_row |= starts_with(line, "| q8 |");
    q4_row |= starts_with(line, "| q4g64 |");
  }
  EXPECT_EQ(rows, 2) << md;
  EXPECT_TRUE(q8_row && q4_row) << md;
  for (const char* h : {"stories260K.gguf", "ctx 128, stride 64", "machine:", "threads", "date:", "trapetum report"})
    EXPECT_NE(md.find(h), std::string::npos) << h << "\n" << md;

  std::string js;
  ASSERT_TRUE(read_text_file(d.path() + "/press-tiny.json", &js));
  const nlohmann::json j = nlohmann::json::parse(js, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << js;
  ASSERT_EQ(j["variants"].size(), 2u);
  EXPECT_GT(j["reference"]["ppl"].get<double>(), 1.0);
  EXPECT_EQ(j["protocol"]["ctx"], 128);
  EXPECT_EQ(j["protocol"]["tokens"], 512);
  for (const auto& v : j["variants"])
    for (const char* k : {"variant", "bits_per_weight", "file_bytes", "ppl", "delta_ppl", "kl_mean", "kl_p99", "top1",
                          "greedy_full_match", "quantize_seconds", "peak_rss_mib"})
      EXPECT_TRUE(v.contains(k)) << k;
  const auto& q8 = j["variants"][0];
  const auto& q4 = j["variants"][1];
  EXPECT_EQ(q8["variant"], "q8");
  EXPECT_EQ(q4["variant"], "q4g64");
  EXPECT_LT(q8["kl_mean"].get<double>(), q4["kl_mean"].get<double>());
  EXPECT_GT(q8["bits_per_weight"].get<double>(), q4["bits_per_weight"].get<double>());
  EXPECT_GT(q8["peak_rss_mib"].get<double>(), 0);
  EXPECT_GT(q8["top1"].get<double>(), 0.5);
  // The PNG only when gnuplot is installed.
  if (system("command -v gnuplot >/dev/null 2>&1") == 0) {
    EXPECT_TRUE(fs::exists(d.path() + "/press-tiny.png")) << r.err;
  }
}

}  // namespace
}  // namespace trapetum
