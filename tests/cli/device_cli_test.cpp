// `--device` and `run --logits-out` from the command line: a GPU that is not there is one clear
// error, and the logits file holds the rows greedy decoding chose from.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "common/cli_util.h"
#include "common/test_util.h"

namespace trapetum {
namespace {

using test::CliRun;
using test::run_cli;

TEST(DeviceCli, CudaWithoutAGpuIsOneClearError) {
  if (!std::filesystem::exists(test::stories())) GTEST_SKIP() << "../shared not present";
  for (const std::string& cmd : {"run -m " + test::stories() + " -p hi -n 2 --device cuda",
                                "bench -m " + test::stories() + " -p 4 -n 2 -r 1 --device cuda",
                                std::string("bench kernels --device cuda --shapes 64x64 -M 1")}) {
    CliRun r = run_cli(cmd);
    if (r.code == 0) GTEST_SKIP() << "a GPU answered: " << cmd;
    // Either this build has no CUDA backend, or the driver has no device: one line that says so.
    test::expect_one_line_error(r, {"cuda"});
  }
  CliRun bad = run_cli("run -m " + test::stories() + " -p hi --device tpu");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("--device"), std::string::npos) << bad.err;
}

TEST(DeviceCli, LogitsOutHoldsTheRowsGreedyChoseFrom) {
  if (!std::filesystem::exists(test::stories())) GTEST_SKIP() << "../shared not present";
  test::TempDir dir;
  const std::string out = dir.file("logits.f32");
  CliRun r = run_cli("run -m " + test::stories() + " -p 'Once upon' -n 6 --temp 0 --json --ignore-eos --logits-out " +
                     out);
  ASSERT_EQ(r.code, 0) << r.err;
  const auto ids = nlohmann::json::parse(r.out)["generated_ids"].get<std::vector<int>>();
  ASSERT_EQ(ids.size(), 6u);
  const std::string bytes = test::read_file(out);
  ASSERT_EQ(bytes.size() % (ids.size() * 4), 0u);
  const size_t vocab = bytes.size() / (ids.size() * 4);
  EXPECT_EQ(vocab, 512u);  // stories260K
  const auto* rows = reinterpret_cast<const float*>(bytes.data());
  for (size_t i = 0; i < ids.size(); ++i) {
    const float* row = rows + i * vocab;
    EXPECT_EQ(std::max_element(row, row + vocab) - row, ids[i]) << "step " << i;
  }
  EXPECT_FALSE(std::filesystem::exists(out + ".partial"));
  // An unwritable path is an error, and nothing is left behind.
  CliRun bad = run_cli("run -m " + test::stories() + " -p hi -n 2 --logits-out " + dir.file("no/such/dir/x"));
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.err.find("cannot create"), std::string::npos) << bad.err;
}

}  // namespace
}  // namespace trapetum
