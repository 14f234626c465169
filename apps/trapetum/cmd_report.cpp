// `trapetum report`: the codec sweep. Presses a model with every listed variant into scratch
// .cbk files, evaluates each against the model itself, and writes a table, JSON and a plot.
#include <stdlib.h>

#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "core/timer.h"
#include "report.h"

namespace trapetum::cli {
namespace {

namespace fs = std::filesystem;

// The scratch directory: made with mkdtemp and removed on destruction, unless --keep named it.
class WorkDir {
 public:
  static Result<WorkDir> open(const std::string& keep) {
    WorkDir w;
    std::error_code ec;
    if (!keep.empty()) {
      fs::create_directories(keep, ec);
      if (ec) return make_error(keep, ": cannot create the --keep directory: ", ec.message());
      w.path_ = keep;
      return w;
    }
    std::string tmpl = (fs::temp_directory_path(ec) / "trapetum-report-XXXXXX").string();
    if (ec || !mkdtemp(tmpl.data())) return make_error(tmpl, ": cannot create a temporary directory");
    w.path_ = tmpl;
    w.remove_ = true;
    return w;
  }
  WorkDir(WorkDir&& o) noexcept : path_(std::move(o.path_)), remove_(o.remove_) { o.remove_ = false; }
  WorkDir(const WorkDir&) = delete;
  ~WorkDir() {
    std::error_code ec;
    if (remove_) fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  WorkDir() = default;
  std::string path_;
  bool remove_ = false;
};

// The model's name for the output files: its file stem, or its directory's name.
std::string default_name(const std::string& model) {
  fs::path p(model);
  while (!p.empty() && p.filename().empty()) p = p.parent_path();
  return fs::is_directory(p) ? p.filename().string() : p.stem().string();
}

int report_main(ReportOptions o) {
  if (o.stride > o.ctx) return report_error(str_cat("--stride (", o.stride, ") must not exceed --ctx (", o.ctx, ")"));
  std::error_code ec;
  if (!fs::exists(o.model, ec)) return report_error(o.model + ": no such file or directory");
  std::string text;
  if (!read_text_file(o.file, &text)) return report_error(o.file + ": cannot read");
  if (o.name.empty()) o.name = default_name(o.model);
  if (o.name.empty() || o.name.find_first_of("/\\") != std::string::npos)
    return report_error("--name '" + o.name + "': must be a non-empty name without slashes");
  auto variants = plan_variants(o);
  if (!variants.ok()) return report_error(variants.error());
  auto work = WorkDir::open(o.keep);
  if (!work.ok()) return report_error(work.error());
  const std::atomic<bool>& cancel = install_sigint_flag();
  Timer timer;
  const size_t n = variants->size();
  for (size_t i = 0; i < n; ++i) {
    Variant& v = (*variants)[i];
    if (cancel) return report_error("interrupted");
    std::fprintf(stderr, "report: [%zu/%zu] %s: quantize\n", i + 1, n, v.label.c_str());
    if (Status s = quantize_variant(o, work->path(), &v); !s.ok()) return report_error(s.error());
    std::fprintf(stderr, "report: [%zu/%zu] %s: %.3f bits/weight, %.2f MB, %.2f s, peak RSS %.0f MiB\n", i + 1, n,
                 v.label.c_str(), v.bits_per_weight, double(v.file_bytes) / 1e6, v.quantize_seconds, v.peak_rss_mib);
  }
  auto ref = evaluate_variants(o, &variants.value(), cancel);
  if (!ref.ok()) return report_error(ref.error());
  auto written = write_report(o, work->path(), ref.value(), variants.value());
  if (!written.ok()) return report_error(written.error());
  for (const std::string& p : written.value()) std::printf("%s\n", p.c_str());
  std::fprintf(stderr, "report: %zu variants in %.1f s%s%s\n", n, timer.seconds(),
               o.keep.empty() ? "" : "; .cbk files kept in ", o.keep.c_str());
  return 0;
}

}  // namespace

void add_report(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<ReportOptions>();
  CLI::App* cmd = app.add_subcommand(
      "report", "Codec sweep: press a model with many variants, compare each with it, write a table, JSON and plot");
  cmd->add_option("-m,--model", o->model, "Source model (.gguf, .cbk or HuggingFace directory), also the reference")
      ->required();
  cmd->add_option("-f,--file", o->file, "Text for perplexity, KL and top-1")->required();
  cmd->add_option("--codecs", o->codecs, "Comma-separated codecs, one variant each ('' = none)")->capture_default_str();
  cmd->add_option("--recipes", o->recipes, "Comma-separated named recipes ('' = none)")->capture_default_str();
  cmd->add_option("--target-bpw", o->target_bpw, "Comma-separated bits-per-weight budgets ('' = none)")
      ->capture_default_str();
  cmd->add_option("--outliers-variants", o->outlier_variants,
                  "Comma-separated CODEC@FRACTION (or RECIPE@FRACTION) variants with fp16 outliers ('' = none)")
      ->capture_default_str();
  cmd->add_option("-c,--ctx", o->ctx, "Window length in tokens")->check(CLI::Range(2, 1 << 20))->capture_default_str();
  cmd->add_option("--stride", o->stride, "Tokens between window starts")->check(CLI::Range(1, 1 << 20))
      ->capture_default_str();
  cmd->add_option("--max-tokens", o->max_tokens, "Use only the first N tokens of the text (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--greedy-tokens", o->greedy_tokens, "Greedy tokens per built-in prompt (0 = skip)")
      ->check(CLI::Range(0, 1 << 16))
      ->capture_default_str();
  cmd->add_option("--name", o->name, "NAME in press-NAME.{md,json,png} (default: the model's file stem)");
  cmd->add_option("--out-dir", o->out_dir, "Directory for the outputs")->capture_default_str();
  cmd->add_option("--keep", o->keep, "Keep the pressed .cbk files (and logs) in this directory");
  add_threads_option(cmd, &o->threads);
  cmd->callback([o, exit_code] { *exit_code = report_main(*o); });
}

}  // namespace trapetum::cli
