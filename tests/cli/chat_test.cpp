// `trapetum chat` driven as a user would: through a pipe (one turn per line) and through a
// pseudo-terminal, where Ctrl-C must stop the answer and return to the prompt.
#include <gtest/gtest.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <regex>

#include "common/test_util.h"

namespace trapetum {
namespace {

using test::stories;

struct TurnStats {
  int prefilled, cached, total;
};

std::vector<TurnStats> parse_stats(const std::string& err) {
  std::vector<TurnStats> v;
  const std::regex re(R"(\[prefill (\d+) tokens \(cached (\d+) of (\d+)\))");
  for (auto it = std::sregex_iterator(err.begin(), err.end(), re); it != std::sregex_iterator(); ++it)
    v.push_back({std::stoi((*it)[1]), std::stoi((*it)[2]), std::stoi((*it)[3])});
  return v;
}

int run_piped(const std::string& args, const std::string& input, std::string* out, std::string* err) {
  test::TempDir dir;
  const std::string in = dir.write("in", input);
  const std::string cmd = std::string(TRAPETUM_CLI_PATH) + " chat " + args + " <" + in + " >" + dir.file("out") +
                          " 2>" + dir.file("err");
  const int status = std::system(cmd.c_str());
  *out = test::read_file(dir.file("out"));
  *err = test::read_file(dir.file("err"));
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void expect_turns_reuse_cache(const std::string& model, const std::string& extra) {
  std::string out, err;
  const int code = run_piped("-m " + model + " --temp 0 -n 24 " + extra, "Hello there!\nTell me a story.\n/exit\n",
                             &out, &err);
  ASSERT_EQ(code, 0) << err;
  const auto stats = parse_stats(err);
  ASSERT_EQ(stats.size(), 2u) << err;
  // Turn 1 prefills its whole prompt; turn 2 finds turn 1 (and its answer) in the cache.
  EXPECT_EQ(stats[0].cached, 0);
  EXPECT_EQ(stats[0].prefilled, stats[0].total);
  EXPECT_GE(stats[1].cached, stats[0].total) << err;
  EXPECT_EQ(stats[1].prefilled, stats[1].total - stats[1].cached);
  EXPECT_LT(stats[1].prefilled, stats[1].total - stats[0].total + 1) << "turn 2 re-prefilled turn 1: " << err;
  EXPECT_FALSE(out.empty());
}

TEST(Chat, PipeReusesTheCacheAcrossTurnsStories260K) {
  if (!std::filesystem::exists(stories())) GTEST_SKIP() << "../shared not present";
  expect_turns_reuse_cache(stories(), "--chat-template chatml");
}

TEST(Chat, PipeReusesTheCacheAcrossTurnsSmolLM2) {
  const char* m = std::getenv("TRAPETUM_SMOLLM2_GGUF");
  if (!m || !std::filesystem::exists(m)) GTEST_SKIP() << "TRAPETUM_SMOLLM2_GGUF not set";
  expect_turns_reuse_cache(m, "--system 'You are brief.'");
}

TEST(Chat, ResetStartsOver) {
  if (!std::filesystem::exists(stories())) GTEST_SKIP() << "../shared not present";
  std::string out, err;
  ASSERT_EQ(run_piped("-m " + stories() + " --chat-template chatml --temp 0 -n 8", "Hi\n/reset\nHi\n", &out, &err), 0)
      << err;
  const auto stats = parse_stats(err);
  ASSERT_EQ(stats.size(), 2u) << err;
  EXPECT_EQ(stats[1].total, stats[0].total);
  EXPECT_NE(err.find("[conversation reset]"), std::string::npos);
}

TEST(Chat, BadTemplateIsAClearError) {
  if (!std::filesystem::exists(stories())) GTEST_SKIP() << "../shared not present";
  std::string out, err;
  EXPECT_NE(run_piped("-m " + stories() + " --chat-template no-such-template", "Hi\n", &out, &err), 0);
  EXPECT_NE(err.find("no-such-template"), std::string::npos) << err;
}

// Reads from fd until needle appears in *buf or the deadline passes.
bool read_until(int fd, std::string* buf, const std::string& needle, int timeout_ms) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (buf->find(needle) == std::string::npos) {
    const int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count());
    if (left <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, left) <= 0) continue;
    char tmp[4096];
    const ssize_t n = read(fd, tmp, sizeof(tmp));
    if (n <= 0) return buf->find(needle) != std::string::npos;
    buf->append(tmp, size_t(n));
  }
  return true;
}

// Starts chat on model in a pseudo-terminal, asks for a long answer, presses Ctrl-C while it
// streams, and checks that the prompt comes back and /exit still works.
void ctrl_c_in_a_terminal(const std::string& model, int ctx) {
  int master = -1;
  const std::string n = std::to_string(ctx - 100), c = std::to_string(ctx);
  const pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    execl(TRAPETUM_CLI_PATH, "trapetum", "chat", "-m", model.c_str(), "--chat-template", "chatml", "--temp", "0.8",
          "--ignore-eos", "-n", n.c_str(), "-c", c.c_str(), nullptr);
    _exit(127);
  }
  std::string buf;
  ASSERT_TRUE(read_until(master, &buf, "> ", 20000)) << buf;
  const std::string ask = "Tell me a long story\n";
  ASSERT_EQ(write(master, ask.data(), ask.size()), ssize_t(ask.size()));
  // Wait until the answer is streaming, then press Ctrl-C.
  ASSERT_TRUE(read_until(master, &buf, "Tell me a long story", 5000));
  std::string more;
  ASSERT_TRUE(read_until(master, &more, " ", 20000)) << more;
  const char ctrl_c = 3;
  ASSERT_EQ(write(master, &ctrl_c, 1), 1);
  std::string after;
  ASSERT_TRUE(read_until(master, &after, "stop: interrupted", 20000)) << after.substr(0, 2000);
  ASSERT_TRUE(read_until(master, &after, "> ", 20000)) << "no prompt after Ctrl-C";
  const std::string quit = "/exit\n";
  ASSERT_EQ(write(master, quit.data(), quit.size()), ssize_t(quit.size()));
  int status = 0;
  pid_t done = 0;
  for (int i = 0; i < 200 && (done = waitpid(pid, &status, WNOHANG)) == 0; ++i) usleep(50000);
  close(master);
  if (done == 0) {
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    FAIL() << "chat did not exit after /exit";
  }
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

TEST(Chat, CtrlCInATerminalStopsTheAnswerStories260K) {
  if (!std::filesystem::exists(stories())) GTEST_SKIP() << "../shared not present";
  ctrl_c_in_a_terminal(stories(), 60000);
}

TEST(Chat, CtrlCInATerminalStopsTheAnswerSmolLM2) {
  const char* m = std::getenv("TRAPETUM_SMOLLM2_GGUF");
  if (!m || !std::filesystem::exists(m)) GTEST_SKIP() << "TRAPETUM_SMOLLM2_GGUF not set";
  ctrl_c_in_a_terminal(m, 2048);
}

}  // namespace
}  // namespace trapetum
