// `trapetum report`, the codec sweep: the variants it presses, the figures it records for each,
// and the three steps (quantize in a child process, evaluate against the source, write outputs).
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "core/result.h"
#include "runtime/perplexity.h"

namespace trapetum::cli {

struct ReportOptions {
  std::string model, file, name, out_dir = "docs/results", keep;
  std::string codecs = "q8,q4g32,q4g64,q4g128,cb4,cb4s,t158,t158p";
  std::string recipes = "4bit,q4,2bit";
  std::string target_bpw = "4.25";
  std::string outlier_variants = "t158@0.5%";
  int ctx = 2048;
  int stride = 512;
  int64_t max_tokens = 32768;
  int greedy_tokens = 16;
  int threads = 1;
};

// One way to press the model: the label in the table and the `trapetum quantize` flags.
struct Variant {
  std::string label;
  std::vector<std::string> quantize_args;  // e.g. {"--codec", "q4g64"}
  std::string file;                        // the .cbk it is pressed into
  // From the child's quantize --json report.
  double bits_per_weight = 0, matrix_bits_per_weight = 0, rel_error = 0;
  int64_t file_bytes = 0;
  double quantize_seconds = 0, peak_rss_mib = 0;
  // From the evaluation against the source.
  PerplexityResult ppl;
  double kl_mean = 0, kl_p99 = 0, kl_max = 0, top1 = 0;
  int64_t positions = 0;
  int greedy_full = 0;  // prompts whose greedy tokens all equal the reference's
  int greedy_match_total = 0;
};

// The source model's own figures, computed once for every variant.
struct ReferenceFigures {
  double bits_per_weight = 0;
  int64_t file_bytes = 0;
  PerplexityResult ppl;
  int64_t tokens = 0;
  int greedy_prompts = 0;
  double eval_seconds = 0;
};

// Runs args (args[0] looked up in PATH unless it has a '/') with stdout captured, stderr to
// log_path and stdin from /dev/null; returns stdout and sets *exit_code (128 + signal if killed).
Result<std::string> run_child(const std::vector<std::string>& args, const std::string& log_path, int* exit_code);

// The last non-empty line of a child's stderr log, without the "trapetum: error: " prefix.
std::string last_error_line(const std::string& log_path);

// The variants the lists ask for, in order: codecs, recipes, budgets, outlier variants
// ("CODEC@0.5%" or "RECIPE@0.5%"); an empty list adds none. Errors name the flag.
Result<std::vector<Variant>> plan_variants(const ReportOptions& o);

// Presses v.file by running `/proc/self/exe quantize ... --json` as a child process, so the
// peak RSS it reports is this quantize's own; fills the quantize figures. work_dir holds the
// child's stderr log.
Status quantize_variant(const ReportOptions& o, const std::string& work_dir, Variant* v);

// Loads the source and every variant, runs the source once per window and per prompt, and
// each variant in lock step against it; fills the evaluation figures.
Result<ReferenceFigures> evaluate_variants(const ReportOptions& o, std::vector<Variant>* variants,
                                           const std::atomic<bool>& cancel);

// Writes press-NAME.md, .json and (when gnuplot runs) .png into o.out_dir, each atomically;
// work_dir holds the plot script. Returns the paths written.
Result<std::vector<std::string>> write_report(const ReportOptions& o, const std::string& work_dir,
                                              const ReferenceFigures& ref, const std::vector<Variant>& variants);

}  // namespace trapetum::cli
