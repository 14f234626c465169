// `trapetum report`: the variant lists parsed into quantize flags, and each variant pressed by a
// child `trapetum quantize --json` so that its seconds and peak RSS are its own.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "press/recipe.h"
#include "report.h"

extern char** environ;

namespace trapetum::cli {
namespace {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(',', start);
    if (end == std::string::npos) end = s.size();
    std::string item = s.substr(start, end - start);
    while (!item.empty() && item.front() == ' ') item.erase(item.begin());
    while (!item.empty() && item.back() == ' ') item.pop_back();
    if (!item.empty()) out.push_back(item);
    start = end + 1;
  }
  return out;
}

bool is_recipe(const std::string& name) {
  for (const auto& [n, about] : recipe_names())
    if (n == name) return true;
  return false;
}

// "--codec X" or "--recipe X" after checking that X is one; flag names the list it came from.
Result<std::vector<std::string>> codec_or_recipe(const std::string& name, const std::string& flag, bool allow_codec,
                                                 bool allow_recipe) {
  if (allow_recipe && is_recipe(name)) return std::vector<std::string>{"--recipe", name};
  if (allow_codec && Recipe::single_codec(name).ok()) return std::vector<std::string>{"--codec", name};
  std::string known;
  if (allow_codec)
    for (DType t : writable_codecs()) known += (known.empty() ? "" : ", ") + std::string(dtype_name(t));
  if (allow_recipe)
    for (const auto& [n, about] : recipe_names()) known += (known.empty() ? "" : ", ") + n;
  return make_error(flag, " '", name, "': unknown; expected one of ", known);
}

// A label safe as a file name: letters, digits, '.', '-', '_' kept, the rest '_'.
std::string file_stem(const std::string& label) {
  std::string s = label;
  for (char& c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-' && c != '_') c = '_';
  return s;
}

Variant make_variant(std::string label, std::vector<std::string> args) {
  Variant v;
  v.label = std::move(label);
  v.quantize_args = std::move(args);
  return v;
}

}  // namespace

std::string last_error_line(const std::string& log_path) {
  std::string text;
  if (!read_text_file(log_path, &text)) return "";
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  const size_t nl = text.rfind('\n');
  std::string line = nl == std::string::npos ? text : text.substr(nl + 1);
  const std::string prefix = "trapetum: error: ";
  if (starts_with(line, prefix)) line = line.substr(prefix.size());
  return line;
}

Result<std::string> run_child(const std::vector<std::string>& args, const std::string& log_path, int* exit_code) {
  int fds[2];
  if (pipe(fds) != 0) return make_error("pipe: ", std::strerror(errno));
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addclose(&fa, fds[0]);
  posix_spawn_file_actions_addclose(&fa, fds[1]);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, args[0].c_str(), &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return make_error(args[0], ": cannot start: ", std::strerror(rc));
  }
  std::string out;
  char buf[65536];
  for (;;) {
    const ssize_t n = read(fds[0], buf, sizeof(buf));
    if (n > 0) out.append(buf, size_t(n));
    else if (n == 0 || errno != EINTR) break;
  }
  close(fds[0]);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
  return out;
}

Result<std::vector<Variant>> plan_variants(const ReportOptions& o) {
  std::vector<Variant> out;
  for (const std::string& c : split_list(o.codecs)) {
    TRY(auto args, codec_or_recipe(c, "--codecs", true, false));
    out.push_back(make_variant(c, args));
  }
  for (const std::string& r : split_list(o.recipes)) {
    TRY(auto args, codec_or_recipe(r, "--recipes", false, true));
    out.push_back(make_variant("recipe " + r, args));
  }
  for (const std::string& b : split_list(o.target_bpw)) {
    double v = 0;
    size_t used = 0;
    try {
      v = std::stod(b, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used != b.size() || !(v >= 1.0 && v <= 32.0))
      return make_error("--target-bpw '", b, "': expected bits per weight between 1 and 32, e.g. 4.25");
    out.push_back(make_variant("target " + b, {"--target-bpw", b}));
  }
  for (const std::string& s : split_list(o.outlier_variants)) {
    const size_t at = s.find('@');
    if (at == std::string::npos || at == 0 || at + 1 == s.size())
      return make_error("--outliers-variants '", s, "': expected CODEC@FRACTION, e.g. t158@0.5%");
    TRY(auto args, codec_or_recipe(s.substr(0, at), "--outliers-variants", true, true));
    args.push_back("--outliers");
    args.push_back(s.substr(at + 1));
    out.push_back(make_variant(s, args));
  }
  if (out.empty()) return make_error("no variants: --codecs, --recipes, --target-bpw and --outliers-variants are all empty");
  for (size_t i = 0; i < out.size(); ++i)
    for (size_t j = 0; j < i; ++j)
      if (out[i].label == out[j].label) return make_error("variant '", out[i].label, "' is listed twice");
  return out;
}

Status quantize_variant(const ReportOptions& o, const std::string& work_dir, Variant* v) {
  const std::string stem = file_stem(v->label);
  v->file = work_dir + "/" + stem + ".cbk";
  const std::string log = work_dir + "/" + stem + ".quantize.log";
  // The .cbk files are scratch, so the source's SHA-256 in their metadata is skipped.
  std::vector<std::string> args = {"/proc/self/exe", "quantize", "-m", o.model, "-o", v->file};
  args.insert(args.end(), v->quantize_args.begin(), v->quantize_args.end());
  for (const char* a : {"--json", "--quiet", "--force", "--no-source-hash", "--threads"}) args.emplace_back(a);
  args.push_back(std::to_string(o.threads));
  int code = 0;
  TRY(const std::string out, run_child(args, log, &code));
  if (code != 0) {
    const std::string why = last_error_line(log);
    return make_error("quantize ", v->label, " failed (exit ", code, ")", why.empty() ? "" : ": ", why);
  }
  const nlohmann::json j = nlohmann::json::parse(out, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object())
    return make_error("quantize ", v->label, ": the child's --json output does not parse (log: ", log, ")");
  for (const char* k : {"bits_per_weight", "matrix_bits_per_weight", "file_bytes", "seconds", "peak_rss_mb", "rel_error"})
    if (!j.contains(k) || !j[k].is_number())
      return make_error("quantize ", v->label, ": the child's --json output lacks the number '", k, "'");
  v->bits_per_weight = j["bits_per_weight"].get<double>();
  v->matrix_bits_per_weight = j["matrix_bits_per_weight"].get<double>();
  v->rel_error = j["rel_error"].get<double>();
  v->file_bytes = j["file_bytes"].get<int64_t>();
  v->quantize_seconds = j["seconds"].get<double>();
  v->peak_rss_mib = j["peak_rss_mb"].get<double>();
  return Ok{};
}

}  // namespace trapetum::cli
