// `trapetum synth`: writes a random-weight model of an exact published shape (GGUF or an HF
// safetensors directory) with a working tokenizer, for benchmarks at real sizes.
#include <unistd.h>

#include <cstdio>

#include "commands.h"
#include "core/thread_pool.h"
#include "core/timer.h"
#include "press/synth.h"

namespace trapetum::cli {
namespace {

struct SynthCliOptions {
  SynthOptions synth;
  std::string dtype = "f16";
  int threads = 1;
  int64_t max_shard_mb = 5000;
  bool dry_run = false;
};

std::string presets_help() {
  std::string s = "Presets:\n";
  char line[256];
  for (const SynthPreset& p : synth_presets()) {
    std::snprintf(line, sizeof(line), "  %-15s %-36s dim %d, %d layers, %d/%d heads, ffn %d, vocab %d\n",
                  p.name.c_str(), p.description.c_str(), p.dim, p.n_layers, p.n_heads, p.n_kv_heads, p.hidden_dim,
                  p.vocab_size);
    s += line;
  }
  return s;
}

void print_plan(const SynthPlan& plan) {
  const SynthPreset& p = plan.preset;
  std::printf("preset       %s (%s, %s)\n", p.name.c_str(), p.description.c_str(), arch_name(p.arch));
  std::printf("format       %s\n", plan.format == SynthFormat::kGguf ? "gguf" : "safetensors directory");
  std::printf("tensors (%zu)\n", plan.tensors.size());
  for (const SynthTensor& t : plan.tensors)
    std::printf("  %-48s %-5s %-16s %12lld\n", t.name.c_str(), std::string(dtype_name(t.dtype)).c_str(),
                shape_str(t.shape).c_str(), static_cast<long long>(t.bytes));
  std::printf("total        %.3f GiB of tensor data in %d file(s)\n", double(plan.total_bytes) / double(1 << 30),
              plan.format == SynthFormat::kGguf ? 1 : plan.n_shards);
}

int synth_main(SynthCliOptions& o) {
  if (o.dtype == "f16") o.synth.dtype = DType::kF16;
  else if (o.dtype == "f32") o.synth.dtype = DType::kF32;
  else if (o.dtype == "bf16") o.synth.dtype = DType::kBF16;
  else return report_error("--dtype '" + o.dtype + "' is not one of f16, f32, bf16");
  o.synth.max_shard_bytes = o.max_shard_mb * 1'000'000;
  auto plan = plan_synth(o.synth);
  if (!plan.ok()) return report_error(plan.error());
  if (o.dry_run) {
    print_plan(*plan);
    return 0;
  }
  const bool tty = isatty(STDERR_FILENO);
  double last_shown = -1;
  auto progress = [&](const SynthProgress& p) {
    const double mb = double(p.bytes_done) / 1e6, rate = p.seconds > 0 ? mb / p.seconds : 0;
    if (tty) {
      if (!p.tensor_done || p.seconds - last_shown < 0.1) return;
      last_shown = p.seconds;
      std::fprintf(stderr, "\r\033[K[%d/%d] %s  %.1f/%.1f MB  %.0f MB/s", p.tensor + 1, p.n_tensors,
                   std::string(p.name).c_str(), mb, double(p.bytes_total) / 1e6, rate);
    } else if (p.tensor_done) {
      std::fprintf(stderr, "[%d/%d] %s  %.1f/%.1f MB  %.0f MB/s\n", p.tensor + 1, p.n_tensors,
                   std::string(p.name).c_str(), mb, double(p.bytes_total) / 1e6, rate);
    }
  };
  ThreadPool pool(o.threads);
  Timer timer;
  o.synth.cancel = &install_sigint_flag();
  Status st = synth_model(o.synth, pool, progress);
  if (tty) std::fprintf(stderr, "\n");
  if (!st.ok()) return report_error(st.error());
  const double s = timer.seconds();
  std::fprintf(stderr, "wrote %s: %zu tensors, %.1f MB in %.2f s (%.0f MB/s)\n", o.synth.out.c_str(),
               plan->tensors.size(), double(plan->total_bytes) / 1e6, s, double(plan->total_bytes) / 1e6 / s);
  return 0;
}

}  // namespace

void add_synth(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<SynthCliOptions>();
  CLI::App* cmd = app.add_subcommand("synth", "Write a random-weight model of a real shape (GGUF or HF directory)");
  cmd->footer(presets_help() +
              "\nOUT ending in .gguf gives a GGUF v3 file (1-D norms in F32); anything else an HF safetensors\n"
              "directory (config.json, model.safetensors or shards, tokenizer files) that transformers loads.\n"
              "Weights are N(0, 0.02) (norms 1 + noise), seeded: the same arguments give the same bytes.");
  cmd->add_option("--preset", o->synth.preset, "Model shape (see the list below)")->required();
  cmd->add_option("-o,--out", o->synth.out, "Output: NAME.gguf, or a directory")->required();
  cmd->add_option("--layers", o->synth.layers, "Override the layer count")->check(CLI::Range(1, 4096));
  cmd->add_option("--seed", o->synth.seed, "Random seed")->capture_default_str();
  cmd->add_option("--outlier-cols", o->synth.outlier_cols,
                  "Fraction of input columns of linear weights made heavy (x10..x20), like activation outliers")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--dtype", o->dtype, "Weight dtype: f16, f32 or bf16")->capture_default_str();
  cmd->add_option("--max-shard-mb", o->max_shard_mb, "Safetensors shard size limit in MB")
      ->check(CLI::Range(int64_t(1), int64_t(1) << 30))
      ->capture_default_str();
  cmd->add_flag("--force", o->synth.force, "Replace an existing output");
  cmd->add_flag("--dry-run", o->dry_run, "Print the tensor plan and sizes; write nothing");
  add_threads_option(cmd, &o->threads);
  cmd->callback([o, exit_code] { *exit_code = synth_main(*o); });
}

}  // namespace trapetum::cli
