// Running the trapetum CLI from tests: exit code, stdout and stderr of one invocation, and
// the check that an error is one line naming the problem.
#pragma once

#include <string>
#include <vector>

namespace trapetum::test {

struct CliRun {
  int code;
  std::string out, err;
};

// Runs `trapetum ARGS` through the shell (args may quote), stdin from /dev/null.
CliRun run_cli(const std::string& args);

// Non-zero exit, and stderr is exactly one "trapetum: error: ..." line containing every needle.
void expect_one_line_error(const CliRun& r, const std::vector<std::string>& needles);

}  // namespace trapetum::test
