// CLI invocation helpers for the end-to-end tests.
#include "common/cli_util.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>

#include "common/test_util.h"

namespace trapetum::test {

CliRun run_cli(const std::string& args) {
  TempDir dir;
  const std::string out = dir.file("out"), err = dir.file("err");
  const std::string cmd = std::string(TRAPETUM_CLI_PATH) + " " + args + " >" + out + " 2>" + err + " </dev/null";
  const int status = std::system(cmd.c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_file(out), read_file(err)};
}

void expect_one_line_error(const CliRun& r, const std::vector<std::string>& needles) {
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(r.err.rfind("trapetum: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  for (const auto& n : needles) EXPECT_NE(r.err.find(n), std::string::npos) << r.err;
}

}  // namespace trapetum::test
