// `trapetum report` outputs: press-NAME.md (header + table), press-NAME.json (every figure) and
// press-NAME.png (bits/weight against mean KL, drawn by a gnuplot child), each written atomically.
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "report.h"

namespace trapetum::cli {
namespace {

Status write_atomically(const std::string& path, const std::string& bytes) {
  const std::string tmp = str_cat(path, ".tmp.", getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return make_error(tmp, ": cannot create: ", std::strerror(errno));
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() && std::fflush(f) == 0 &&
                  fsync(fileno(f)) == 0;
  if (std::fclose(f) != 0 || !ok) {
    std::remove(tmp.c_str());
    return make_error(tmp, ": write failed: ", std::strerror(errno));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    return make_error(path, ": cannot rename into place: ", why);
  }
  return Ok{};
}

std::string cpu_model() {
  std::string info;
  if (read_text_file("/proc/cpuinfo", &info)) {
    const size_t at = info.find("model name");
    if (at != std::string::npos) {
      const size_t colon = info.find(':', at), nl = info.find('\n', at);
      if (colon != std::string::npos && colon < nl) {
        std::string s = info.substr(colon + 1, nl - colon - 1);
        while (!s.empty() && s.front() == ' ') s.erase(s.begin());
        return s;
      }
    }
  }
  return "unknown CPU";
}

// The exact command line from /proc/self/cmdline, quoted for a POSIX shell where needed.
std::string command_line() {
  std::string raw;
  if (!read_text_file("/proc/self/cmdline", &raw)) return "trapetum report";
  std::string out;
  size_t start = 0;
  bool first = true;
  while (start < raw.size()) {
    size_t end = raw.find('\0', start);
    if (end == std::string::npos) end = raw.size();
    std::string a = first ? std::string("trapetum") : raw.substr(start, end - start);
    first = false;
    const bool plain = !a.empty() && a.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                         "0123456789-_./=,:@%+") == std::string::npos;
    if (!plain) {
      std::string q = "'";
      for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
      a = q + "'";
    }
    out += (out.empty() ? "" : " ") + a;
    start = end + 1;
  }
  return out;
}

std::string utc_date() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), f, v);
  return buf;
}

std::string markdown(const ReportOptions& o, const nlohmann::json& j, const ReferenceFigures& ref,
                     const std::vector<Variant>& variants) {
  const int g = o.greedy_tokens;
  std::string s = "# Codec sweep: " + o.name + "\n\n";
  s += str_cat("- model: `", o.model, "` (", fmt("%.2f", ref.bits_per_weight), " bits/weight, ",
               fmt("%.2f", double(ref.file_bytes) / 1e6), " MB), the reference for every figure\n");
  s += str_cat("- text: `", o.file, "`, the first ", ref.tokens, " tokens\n");
  s += str_cat("- protocol: ctx ", o.ctx, ", stride ", o.stride, ", max tokens ", o.max_tokens, "; ", ref.ppl.windows,
               " windows, ", ref.ppl.tokens_scored, " positions scored; reference perplexity ",
               fmt("%.4f", ref.ppl.ppl), "; greedy: ", g, " tokens on each of ", ref.greedy_prompts,
               " built-in prompts\n");
  s += str_cat("- machine: ", j["machine"]["cpu"].get<std::string>(), ", ", o.threads, " threads\n");
  s += "- date: " + j["date"].get<std::string>() + "\n";
  s += "- command: `" + j["command"].get<std::string>() + "`\n";
  s += "- method: each variant is pressed by a child `trapetum quantize --no-source-hash` (its own seconds and "
       "peak RSS); the reference runs once and the variants in lock step with it\n\n";
  s += str_cat("| variant | bits/weight | file MB | ppl | Δppl | KL mean | KL p99 | top-1 % | greedy ", g, "/", g,
               " prompts | quantize s | peak RSS MiB |\n");
  s += "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n";
  for (const Variant& v : variants) {
    const double d = v.ppl.ppl - ref.ppl.ppl;
    const std::string greedy = g > 0 ? str_cat(v.greedy_full, "/", ref.greedy_prompts) : std::string("—");
    s += str_cat("| ", v.label, " | ", fmt("%.3f", v.bits_per_weight), " | ", fmt("%.3f", double(v.file_bytes) / 1e6),
                 " | ", fmt("%.4f", v.ppl.ppl), " | ", fmt("%+.4f", d), " (", fmt("%+.2f", 100.0 * d / ref.ppl.ppl),
                 "%) | ", fmt("%.4g", v.kl_mean), " | ", fmt("%.4g", v.kl_p99), " | ", fmt("%.2f", 100.0 * v.top1),
                 " | ", greedy, " | ", fmt("%.2f", v.quantize_seconds), " | ", fmt("%.0f", v.peak_rss_mib), " |\n");
  }
  return s;
}

nlohmann::json to_json(const ReportOptions& o, const ReferenceFigures& ref, const std::vector<Variant>& variants) {
  nlohmann::json j;
  j["name"] = o.name;
  j["model"] = o.model;
  j["file"] = o.file;
  j["command"] = command_line();
  j["date"] = utc_date();
  j["machine"] = {{"cpu", cpu_model()}, {"threads", o.threads}};
  j["protocol"] = {{"ctx", o.ctx}, {"stride", o.stride}, {"max_tokens", o.max_tokens}, {"tokens", ref.tokens},
                   {"windows", ref.ppl.windows}, {"positions", ref.ppl.tokens_scored},
                   {"greedy_tokens", o.greedy_tokens}, {"greedy_prompts", ref.greedy_prompts}};
  j["reference"] = {{"bits_per_weight", ref.bits_per_weight}, {"file_bytes", ref.file_bytes}, {"ppl", ref.ppl.ppl},
                    {"ppl_seconds", ref.ppl.seconds}, {"eval_seconds", ref.eval_seconds}};
  auto& arr = j["variants"] = nlohmann::json::array();
  for (const Variant& v : variants)
    arr.push_back({{"variant", v.label}, {"quantize_args", v.quantize_args}, {"bits_per_weight", v.bits_per_weight},
                   {"matrix_bits_per_weight", v.matrix_bits_per_weight}, {"rel_error", v.rel_error},
                   {"file_bytes", v.file_bytes}, {"file_mb", double(v.file_bytes) / 1e6}, {"ppl", v.ppl.ppl},
                   {"delta_ppl", v.ppl.ppl - ref.ppl.ppl}, {"delta_ppl_pct", 100.0 * (v.ppl.ppl / ref.ppl.ppl - 1.0)},
                   {"kl_mean", v.kl_mean}, {"kl_p99", v.kl_p99}, {"kl_max", v.kl_max}, {"top1", v.top1},
                   {"positions", v.positions}, {"greedy_full_match", v.greedy_full},
                   {"greedy_match_total", v.greedy_match_total}, {"ppl_seconds", v.ppl.seconds},
                   {"quantize_seconds", v.quantize_seconds}, {"peak_rss_mib", v.peak_rss_mib}});
  return j;
}

// Draws the Pareto plot into png_path through gnuplot; a warning (not an error) when it cannot.
void plot(const ReportOptions& o, const std::string& work_dir, const std::string& png_path,
          const std::vector<Variant>& variants, std::vector<std::string>* written) {
  // Log scale: a KL of exactly 0 (a lossless variant) is drawn at 1e-9.
  auto y = [](double kl) { return std::max(kl, 1e-9); };
  std::string points, frontier;
  std::vector<const Variant*> sorted;
  for (const Variant& v : variants) {
    std::string label = v.label;
    std::replace(label.begin(), label.end(), '"', '\'');
    points += str_cat(fmt("%.6f", v.bits_per_weight), " ", fmt("%.6e", y(v.kl_mean)), " \"", label, "\"\n");
    sorted.push_back(&v);
  }
  // The frontier: no cheaper-or-equal variant has a lower KL.
  std::sort(sorted.begin(), sorted.end(), [](const Variant* a, const Variant* b) {
    return a->bits_per_weight != b->bits_per_weight ? a->bits_per_weight < b->bits_per_weight : a->kl_mean < b->kl_mean;
  });
  double best = 1e300;
  for (const Variant* v : sorted)
    if (v->kl_mean < best) {
      best = v->kl_mean;
      frontier += str_cat(fmt("%.6f", v->bits_per_weight), " ", fmt("%.6e", y(v->kl_mean)), "\n");
    }
  const std::string data = work_dir + "/plot_points.dat", front = work_dir + "/plot_frontier.dat";
  const std::string script_path = work_dir + "/plot.gp", tmp_png = str_cat(png_path, ".tmp.", getpid());
  std::string title = "trapetum report " + o.name + ": bits per weight vs KL(source || variant)";
  std::replace(title.begin(), title.end(), '"', '\'');
  const std::string script =
      str_cat("set terminal pngcairo size 1100,750 noenhanced\nset output \"", tmp_png, "\"\nset title \"", title,
              "\"\nset xlabel \"bits per weight\"\nset ylabel \"mean KL divergence (log scale)\"\n",
              "set logscale y\nset format y \"%.0e\"\nset grid\nset key top right\nset offsets graph 0.05, graph 0.12, graph 0.05, graph 0.05\n",
              "plot \"", front, "\" using 1:2 with lines lw 1 lc rgb \"#999999\" title \"Pareto frontier\", \\\n  \"",
              data, "\" using 1:2 with points pt 7 ps 1.4 lc rgb \"#1f77b4\" notitle, \\\n  \"", data,
              "\" using 1:2:3 with labels left offset 0.8,0.4 notitle\n");
  for (const auto& [path, bytes] : {std::pair{data, points}, {front, frontier}, {script_path, script}})
    if (Status s = write_atomically(path, bytes); !s.ok()) {
      std::fprintf(stderr, "report: warning: no plot: %s\n", s.error().c_str());
      return;
    }
  const std::string log = work_dir + "/gnuplot.log";
  int code = 0;
  auto r = run_child({"gnuplot", script_path}, log, &code);
  std::error_code ec;
  if (!r.ok() || code != 0) {
    std::filesystem::remove(tmp_png, ec);
    const std::string why = r.ok() ? str_cat("gnuplot exited with ", code, ": ", last_error_line(log)) : r.error();
    std::fprintf(stderr, "report: warning: no plot (%s); install gnuplot-nox for the PNG\n", why.c_str());
    return;
  }
  std::filesystem::rename(tmp_png, png_path, ec);
  if (ec) {
    std::fprintf(stderr, "report: warning: no plot: %s: %s\n", png_path.c_str(), ec.message().c_str());
    std::filesystem::remove(tmp_png, ec);
    return;
  }
  written->push_back(png_path);
}

}  // namespace

Result<std::vector<std::string>> write_report(const ReportOptions& o, const std::string& work_dir,
                                              const ReferenceFigures& ref, const std::vector<Variant>& variants) {
  std::error_code ec;
  std::filesystem::create_directories(o.out_dir, ec);
  if (ec) return make_error(o.out_dir, ": cannot create the output directory: ", ec.message());
  const std::string base = o.out_dir + "/press-" + o.name;
  const nlohmann::json j = to_json(o, ref, variants);
  std::vector<std::string> written;
  TRY_STATUS(write_atomically(base + ".md", markdown(o, j, ref, variants)));
  written.push_back(base + ".md");
  TRY_STATUS(write_atomically(base + ".json", j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"));
  written.push_back(base + ".json");
  plot(o, work_dir, base + ".png", variants, &written);
  return written;
}

}  // namespace trapetum::cli
