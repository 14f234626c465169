// `trapetum quantize`: press a model into a .cbk with a codec, a recipe or a size budget;
// progress on stderr, a per-tensor table and a summary on stdout.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/timer.h"
#include "press/quantize_model.h"

namespace trapetum::cli {
namespace {

struct QuantizeOptions {
  std::string model, out, codec, recipe;
  std::vector<std::string> tensor_types;
  double target_bpw = 0;
  std::string outliers;  // "0.5%" or "0.005"
  int threads = 1;
  bool json = false, quiet = false, force = false, no_hash = false;
};

// The options that shape the output, as a command line for the metadata (threads and
// display flags do not change the bytes, so they are left out).
std::string command_line(const QuantizeOptions& o) {
  std::string s = "trapetum quantize -m " + o.model + " -o " + o.out;
  if (!o.codec.empty()) s += " --codec " + o.codec;
  if (!o.recipe.empty()) s += " --recipe " + o.recipe;
  if (o.target_bpw > 0) s += " --target-bpw " + std::to_string(o.target_bpw);
  for (const std::string& t : o.tensor_types) s += " --tensor-type '" + t + "'";
  if (!o.outliers.empty()) s += " --outliers " + o.outliers;
  return s;
}

Result<double> parse_fraction(const std::string& s) {
  if (s.empty()) return 0.0;
  const bool pct = s.back() == '%';
  double v = 0;
  size_t used = 0;
  try {
    v = std::stod(pct ? s.substr(0, s.size() - 1) : s, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != s.size() - (pct ? 1 : 0) || !(v >= 0)) return make_error("--outliers '", s, "': expected e.g. 0.5% or 0.005");
  if (pct) v /= 100.0;
  if (v >= 0.5) return make_error("--outliers '", s, "': must be below 50%");
  return v;
}

// Progress: a redrawn bar on a terminal, a line per tensor otherwise.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(bool quiet) : quiet_(quiet), tty_(isatty(STDERR_FILENO)) {}
  void operator()(const PressProgress& p) {
    if (quiet_) return;
    const double t = timer_.seconds();
    const double mbs = t > 0 ? double(p.bytes_done) / 1e6 / t : 0;
    const double eta = p.bytes_done > 0 ? t * double(p.bytes_total - p.bytes_done) / double(p.bytes_done) : 0;
    if (std::string(p.phase) == "measure") {
      std::fprintf(stderr, tty_ ? "\r\033[Kmeasuring codecs: tensor %d/%d %s" : "measuring codecs: tensor %d/%d %s\n",
                   p.index, p.total, p.name.c_str());
    } else if (tty_) {
      const int width = 30, filled = p.bytes_total ? int(width * p.bytes_done / p.bytes_total) : width;
      std::fprintf(stderr, "\r\033[K[%s%s] %d/%d %6.1f MB/s ETA %4.0fs %s", std::string(size_t(filled), '=').c_str(),
                   std::string(size_t(width - filled), ' ').c_str(), p.index, p.total, mbs, eta, p.name.c_str());
      if (p.name.empty()) std::fprintf(stderr, "\n");
    } else if (!p.name.empty() && (p.index == 1 || t - last_line_ >= 5.0)) {  // a line every 5 s in logs
      std::fprintf(stderr, "quantize: tensor %d/%d %s (%.1f MB/s, ETA %.0f s)\n", p.index, p.total, p.name.c_str(),
                   mbs, eta);
      last_line_ = t;
    }
    std::fflush(stderr);
  }

 private:
  bool quiet_, tty_;
  Timer timer_;
  double last_line_ = 0;
};

void print_table(const PressReport& r) {
  std::printf("%-28s %-7s %-16s %7s %10s %9s\n", "tensor", "codec", "shape", "bpw", "rel.error", "outliers");
  for (const PressedInfo& t : r.tensors) {
    std::string shape;
    for (int64_t d : t.shape) shape += (shape.empty() ? "" : "x") + std::to_string(d);
    std::printf("%-28s %-7s %-16s %7.3f %10.5f %9lld\n", t.name.c_str(), std::string(dtype_name(t.dtype)).c_str(),
                shape.c_str(), t.bits_per_weight, t.rel_error, static_cast<long long>(t.n_outliers));
  }
}

nlohmann::json report_json(const QuantizeOptions& o, const PressReport& r) {
  nlohmann::json tensors = nlohmann::json::array();
  for (const PressedInfo& t : r.tensors)
    tensors.push_back({{"name", t.name}, {"codec", std::string(dtype_name(t.dtype))}, {"shape", t.shape},
                       {"bits_per_weight", t.bits_per_weight}, {"rel_error", t.rel_error},
                       {"outliers", t.n_outliers}, {"bytes", t.bytes}});
  return {{"model", o.model}, {"output", o.out}, {"file_bytes", r.file_bytes}, {"params", r.params},
          {"bits_per_weight", r.bits_per_weight}, {"matrix_bits_per_weight", r.matrix_bits_per_weight},
          {"rel_error", r.rel_error}, {"seconds", r.seconds}, {"peak_rss_mb", r.peak_rss_mb},
          {"tensors", std::move(tensors)}};
}

int quantize_main(const QuantizeOptions& o) {
  const int modes = int(!o.codec.empty()) + int(!o.recipe.empty()) + int(o.target_bpw > 0);
  if (modes != 1) return report_error("give exactly one of --codec, --recipe or --target-bpw");
  std::error_code ec;
  if (std::filesystem::exists(o.out, ec) && !o.force)
    return report_error(o.out + ": already exists (use --force to replace it)");
  PressOptions po;
  auto recipe = !o.codec.empty() ? Recipe::single_codec(o.codec) : Recipe::named(o.recipe.empty() ? "4bit" : o.recipe);
  if (!recipe.ok()) return report_error(recipe.error());
  po.recipe = std::move(recipe.value());
  for (const std::string& spec : o.tensor_types)
    if (Status s = po.recipe.add_override(spec); !s.ok()) return report_error(s.error());
  auto frac = parse_fraction(o.outliers);
  if (!frac.ok()) return report_error(frac.error());
  if (!o.outliers.empty()) po.recipe.set_outliers(frac.value());
  po.target_bpw = o.target_bpw;
  po.threads = o.threads;
  po.command_line = command_line(o);
  po.hash_source = !o.no_hash;
  po.cancel = &install_sigint_flag();
  ProgressPrinter printer(o.quiet);
  po.progress = [&](const PressProgress& p) { printer(p); };
  auto model = Model::load(o.model);
  if (!model.ok()) return report_error(model.error());
  auto r = quantize_model(*model.value(), o.out, po);
  if (!r.ok()) return report_error(r.error());
  const PressReport& rep = r.value();
  if (o.json) {
    std::puts(report_json(o, rep).dump(2).c_str());
    return 0;
  }
  print_table(rep);
  std::printf("\n%s: %.2f MB, %lld parameters, %.3f bits per weight (%.3f over matrices), relative error %.5f\n",
              o.out.c_str(), double(rep.file_bytes) / 1e6, static_cast<long long>(rep.params), rep.bits_per_weight,
              rep.matrix_bits_per_weight, rep.rel_error);
  std::printf("took %.2f s, peak RSS %.0f MiB\n", rep.seconds, rep.peak_rss_mb);
  return 0;
}

}  // namespace

void add_quantize(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<QuantizeOptions>();
  std::string recipes = "Named recipe:";
  for (const auto& [name, about] : recipe_names()) recipes += "\n  " + name + ": " + about;
  std::string codecs;
  for (DType t : writable_codecs()) codecs += (codecs.empty() ? "" : ", ") + std::string(dtype_name(t));
  CLI::App* cmd = app.add_subcommand("quantize", "Press a model into a .cbk file with low-bit codecs");
  cmd->add_option("-m,--model", o->model, "Source model: .gguf, .cbk or a HuggingFace directory")->required();
  cmd->add_option("-o,--output", o->out, "Output .cbk file (written atomically)")->required();
  cmd->add_option("--codec", o->codec, "One codec for every matrix: " + codecs);
  cmd->add_option("--recipe", o->recipe, recipes);
  cmd->add_option("--target-bpw", o->target_bpw, "Choose a codec per matrix to meet this bits-per-weight budget")
      ->check(CLI::Range(1.0, 32.0));
  cmd->add_option("--tensor-type", o->tensor_types,
                  "Override: REGEX=CODEC, matched against GGUF-style and HF names; repeatable, later wins");
  cmd->add_option("--outliers", o->outliers, "Keep this share of each row as fp16 corrections, e.g. 0.5%");
  cmd->add_flag("--json", o->json, "Print the report as JSON");
  cmd->add_flag("-q,--quiet", o->quiet, "No progress on stderr");
  cmd->add_flag("--force", o->force, "Replace an existing output file");
  cmd->add_flag("--no-source-hash", o->no_hash, "Skip the source's SHA-256 in the metadata");
  add_threads_option(cmd, &o->threads);
  cmd->callback([o, exit_code] { *exit_code = quantize_main(*o); });
}

}  // namespace trapetum::cli
