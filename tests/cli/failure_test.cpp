// Failure behaviour of the CLI's writers and of session setup, end to end on synthesized
// models: SIGINT/SIGKILL midway, a file-size limit (EFBIG) and a full tmpfs (ENOSPC) leave no
// output behind and give one error naming the file; a context too large fails before allocating.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <thread>

#include "common/test_util.h"

namespace trapetum {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct Child {
  pid_t pid = -1;
  std::string err_path;
};

// Starts `trapetum args...` with stdout to /dev/null and stderr to err_path; fsize_limit > 0
// sets RLIMIT_FSIZE in the child (the CLI ignores SIGXFSZ, so writes fail with EFBIG).
Child spawn_cli(const std::vector<std::string>& args, const std::string& err_path, rlim_t fsize_limit = 0) {
  std::vector<std::string> all = {TRAPETUM_CLI_PATH};
  all.insert(all.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int in = ::open("/dev/null", O_RDONLY), out = ::open("/dev/null", O_WRONLY);
    const int err = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (in < 0 || out < 0 || err < 0) ::_exit(126);
    ::dup2(in, 0);
    ::dup2(out, 1);
    ::dup2(err, 2);
    if (fsize_limit > 0) {
      const rlimit r{fsize_limit, fsize_limit};
      if (::setrlimit(RLIMIT_FSIZE, &r) != 0) ::_exit(126);
    }
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return {pid, err_path};
}

struct Finished {
  int code = -1;    // exit status, or -1 when killed by a signal
  int signal = 0;   // the signal that killed it
  double seconds = 0;
  long max_rss_kb = 0;
  std::string err;  // stderr
};

Finished wait_cli(const Child& c, Clock::time_point start = Clock::now()) {
  Finished f;
  int status = 0;
  rusage ru{};
  if (::wait4(c.pid, &status, 0, &ru) != c.pid) {
    ADD_FAILURE() << "wait4 failed";
    return f;
  }
  f.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  f.max_rss_kb = ru.ru_maxrss;
  if (WIFEXITED(status)) f.code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) f.signal = WTERMSIG(status);
  f.err = test::read_file(c.err_path);
  return f;
}

Finished run_cli(const std::vector<std::string>& args, const std::string& err_path, rlim_t fsize_limit = 0) {
  const auto start = Clock::now();
  return wait_cli(spawn_cli(args, err_path, fsize_limit), start);
}

std::string last_line(const std::string& s) {
  std::string t = s;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  const size_t nl = t.rfind('\n');
  return nl == std::string::npos ? t : t.substr(nl + 1);
}

std::vector<std::string> entries(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  return names;
}

// Synthesizes `trapetum synth --preset preset [extra] -o dir/name` once per test program.
const std::string& synth_model(const std::string& name, const std::vector<std::string>& extra) {
  static test::TempDir dir;
  static std::map<std::string, std::string> made;
  auto it = made.find(name);
  if (it != made.end()) return it->second;
  const std::string path = dir.file(name);
  std::vector<std::string> args = {"synth", "-o", path};
  args.insert(args.end(), extra.begin(), extra.end());
  Finished f = run_cli(args, dir.file(name + ".log"));
  EXPECT_EQ(f.code, 0) << f.err;
  return made.emplace(name, path).first->second;
}

// The tiny preset (dim 64, 2 layers): a 0.3 MB GGUF, the source of the writer tests.
const std::string& tiny() { return synth_model("tiny.gguf", {"--preset", "tiny"}); }
// SmolLM2-135M's shape with 6 layers (a 100 MB GGUF): quantize needs seconds.
const std::string& medium() { return synth_model("medium.gguf", {"--preset", "smollm2-135m", "--layers", "6"}); }

// Whether the child has not exited yet (it stays waitable).
bool running(const Child& c) {
  siginfo_t info{};
  return ::waitid(P_PID, id_t(c.pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == 0;
}

// Waits (up to 30 s) until the child's stderr contains needle; false if it ended first.
bool wait_for_progress(const Child& c, const std::string& needle) {
  for (int i = 0; i < 1200; ++i) {
    if (test::read_file(c.err_path).find(needle) != std::string::npos) return running(c);
    if (!running(c)) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

// quantize of the medium model, sent sig after its first tensor started: no .cbk, nothing
// named beside it.
void quantize_interrupted(int sig) {
  const std::string& src = medium();
  test::TempDir out_dir, log_dir;
  const std::string out = out_dir.file("m.cbk");
  Child c = spawn_cli({"quantize", "-m", src, "-o", out, "--recipe", "4bit", "-t", "1"}, log_dir.file("err"));
  ASSERT_TRUE(wait_for_progress(c, "tensor 1/")) << "quantize ended before it could be interrupted:\n"
                                                 << test::read_file(c.err_path);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  ASSERT_TRUE(running(c)) << "quantize finished within 0.3 s; use a larger model";
  const auto sent = Clock::now();
  ASSERT_EQ(::kill(c.pid, sig), 0);
  Finished f = wait_cli(c, sent);
  if (sig == SIGINT) {
    EXPECT_EQ(f.code, 1) << f.err;
    const std::string line = last_line(f.err);
    EXPECT_EQ(line.rfind("trapetum: error: ", 0), 0u) << f.err;
    EXPECT_NE(line.find(out), std::string::npos) << f.err;
    EXPECT_NE(line.find("interrupted"), std::string::npos) << f.err;
    // It stops between tensors: within one tensor's time, well under the whole run.
    EXPECT_LT(f.seconds, 10.0);
    std::printf("quantize stopped %.2f s after SIGINT\n", f.seconds);
  } else {
    EXPECT_EQ(f.signal, sig);
  }
  EXPECT_TRUE(entries(out_dir.path()).empty()) << "left behind: " << entries(out_dir.path())[0];
}

TEST(FailureCli, QuantizeSigintMidwayLeavesNoFile) { quantize_interrupted(SIGINT); }
TEST(FailureCli, QuantizeSigkillMidwayLeavesNoFile) { quantize_interrupted(SIGKILL); }

// synth writing a GGUF (the TensorSink path) killed midway: its unnamed file vanishes with it.
TEST(FailureCli, SynthGgufSigkillMidwayLeavesNoFile) {
  test::TempDir out_dir, log_dir;
  const std::string out = out_dir.file("s.gguf");
  Child c = spawn_cli({"synth", "--preset", "smollm2-135m", "--layers", "30", "-t", "1", "-o", out}, log_dir.file("err"));
  if (!wait_for_progress(c, "[2/")) {
    wait_cli(c);
    GTEST_SKIP() << "synth finished before it could be killed";
  }
  ASSERT_EQ(::kill(c.pid, SIGKILL), 0);
  Finished f = wait_cli(c);
  EXPECT_EQ(f.signal, SIGKILL);
  EXPECT_TRUE(entries(out_dir.path()).empty()) << "left behind: " << entries(out_dir.path())[0];
}

// A command writing a HF directory (out_dir/out), sent SIGINT once its stderr shows `started`:
// the partial directory beside the output is removed and the error names the output.
void directory_writer_interrupted(std::vector<std::string> args, const std::string& started) {
  test::TempDir out_dir, log_dir;
  const std::string out = out_dir.file("hf");
  args.insert(args.end(), {"-o", out});
  Child c = spawn_cli(args, log_dir.file("err"));
  if (!wait_for_progress(c, started)) {
    wait_cli(c);
    GTEST_SKIP() << "the command finished before it could be interrupted";
  }
  const auto sent = Clock::now();
  ASSERT_EQ(::kill(c.pid, SIGINT), 0);
  Finished f = wait_cli(c, sent);
  if (f.code == 0) GTEST_SKIP() << "the command finished before the signal arrived";
  EXPECT_EQ(f.code, 1) << f.err;
  const std::string line = last_line(f.err);
  EXPECT_EQ(line.rfind("trapetum: error: " + out + ": interrupted", 0), 0u) << f.err;
  EXPECT_LT(f.seconds, 10.0);
  EXPECT_TRUE(entries(out_dir.path()).empty()) << "left behind: " << entries(out_dir.path())[0];
}

TEST(FailureCli, SynthDirectorySigintMidwayLeavesNothing) {
  directory_writer_interrupted({"synth", "--preset", "smollm2-135m", "--layers", "30", "-t", "1"}, "[2/");
}

TEST(FailureCli, DequantizeSigintMidwayLeavesNothing) {
  directory_writer_interrupted({"dequantize", medium()}, "tensor 2/");
}

// Each writer command with its output under out_dir: a clean one-line error naming the output
// and the errno text, a non-zero exit, and nothing left in out_dir.
struct WriterCase {
  const char* what;
  std::vector<std::string> args;  // "OUT" is replaced by the output path
  std::string out_name;
};

std::vector<WriterCase> writer_cases() {
  return {{"quantize q8 .cbk", {"quantize", "-m", tiny(), "-o", "OUT", "--codec", "q8", "-q"}, "m.cbk"},
          {"dequantize to a HF directory", {"dequantize", tiny(), "-o", "OUT", "-q"}, "hf"},
          {"synth a GGUF", {"synth", "--preset", "tiny", "-o", "OUT"}, "s.gguf"},
          {"synth a HF directory", {"synth", "--preset", "tiny", "-o", "OUT"}, "sdir"}};
}

void expect_clean_failures(const std::string& out_dir, const std::string& errno_text, rlim_t fsize_limit) {
  test::TempDir log_dir;
  for (WriterCase w : writer_cases()) {
    SCOPED_TRACE(w.what);
    const std::string out = out_dir + "/" + w.out_name;
    for (std::string& a : w.args)
      if (a == "OUT") a = out;
    Finished f = run_cli(w.args, log_dir.file("err"), fsize_limit);
    EXPECT_EQ(f.signal, 0) << "killed by signal " << f.signal;
    EXPECT_EQ(f.code, 1) << f.err;
    const std::string line = last_line(f.err);
    EXPECT_EQ(line.rfind("trapetum: error: ", 0), 0u) << f.err;
    EXPECT_NE(line.find(out), std::string::npos) << line;
    EXPECT_NE(line.find(errno_text), std::string::npos) << line;
    EXPECT_EQ(f.err.find("error:"), f.err.rfind("error:")) << "one error line only:\n" << f.err;
    const auto left = entries(out_dir);
    EXPECT_TRUE(left.empty()) << "left behind: " << left[0];
    for (const std::string& n : left) fs::remove_all(out_dir + "/" + n);
  }
}

// A 64 KiB file-size limit (ulimit -f) is below every output here.
TEST(FailureCli, FileSizeLimitGivesCleanErrorsAndNoFiles) {
  tiny();
  test::TempDir out_dir;
  expect_clean_failures(out_dir.path(), "File too large", 64 * 1024);
}

// A 64 KiB tmpfs fills up: ENOSPC. Needs mount (root or CAP_SYS_ADMIN), else skips.
TEST(FailureCli, FullDiskGivesCleanErrorsAndNoFiles) {
  tiny();
  test::TempDir dir;
  const std::string mnt = dir.file("small");
  fs::create_directory(mnt);
  const std::string mount_cmd = "mount -t tmpfs -o size=64k tmpfs " + mnt + " 2>/dev/null";
  if (std::system(mount_cmd.c_str()) != 0) GTEST_SKIP() << "cannot mount a tmpfs here (needs root); ENOSPC not tested";
  struct Unmount {
    std::string path;
    ~Unmount() { (void)std::system(("umount " + path).c_str()); }
  } unmount{mnt};
  expect_clean_failures(mnt, "No space left on device", 0);
}

// MemAvailable in bytes, or -1.
int64_t mem_available() {
  std::ifstream f("/proc/meminfo");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("MemAvailable:", 0) == 0) return std::stoll(line.substr(13)) * 1024;
  return -1;
}

// The tiny preset's f32 KV cache holds 2 * 2 kv heads * 16 dims * 4 bytes = 256 bytes per token
// and layer: 256 MiB per layer at --ctx 1048576 (the CLI's largest). Layers are chosen so the
// whole cache needs about 1.5x the available memory while K or V alone would fit: a check of
// each allocation alone would pass the first and allocate it.
TEST(FailureCli, ContextBeyondMemoryFailsBeforeAllocating) {
  const int64_t avail = mem_available();
  if (avail <= 0) GTEST_SKIP() << "no MemAvailable in /proc/meminfo";
  const int64_t per_layer = int64_t(256) << 20;
  const int64_t layers = (avail * 3 / 2 + per_layer - 1) / per_layer;
  if (layers > 4096) GTEST_SKIP() << "more memory than 4096 tiny layers can exceed";
  const std::string& model = synth_model("deep.gguf", {"--preset", "tiny", "--layers", std::to_string(layers)});
  test::TempDir log_dir;
  Finished f = run_cli({"run", "-m", model, "-p", "hi", "-n", "1", "--ctx", "1048576", "--kv-type", "f32", "-t", "1"},
                       log_dir.file("err"));
  EXPECT_EQ(f.code, 1) << f.err;
  const std::string line = last_line(f.err);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(line, m,
                                std::regex("f32 kv cache for a context of 1048576 tokens needs (\\d+) MiB: .*cannot "
                                           "allocate (\\d+) MiB: only (\\d+) MiB of memory are available")))
      << f.err;
  const int64_t needs = std::stoll(m[1]), checked = std::stoll(m[2]), have = std::stoll(m[3]);
  EXPECT_EQ(needs, layers * 256);
  EXPECT_GE(checked, needs) << "the whole cache is checked at once, not K and V apart";
  EXPECT_LT(have, needs);
  EXPECT_LT(f.seconds, 20.0);
  EXPECT_LT(f.max_rss_kb, 1 << 20) << "no more than 1 GiB resident before failing";
  std::printf("%lld layers: needs %lld MiB, %lld MiB available; failed in %.2f s, peak RSS %ld KiB\n",
              static_cast<long long>(layers), static_cast<long long>(needs), static_cast<long long>(have), f.seconds,
              f.max_rss_kb);
}

}  // namespace
}  // namespace trapetum
