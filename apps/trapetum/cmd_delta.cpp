// `trapetum delta` stores a fine-tuned model as a compressed difference from its base;
// `trapetum materialize` adds it back onto the base (.cbk or HuggingFace directory).
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "press/delta.h"

namespace trapetum::cli {
namespace {

struct DeltaCliOptions {
  std::string base, model, delta, out, codec, recipe, dtype = "f32";
  int threads = 1;
  bool force = false, quiet = false;
};

Result<Recipe> pick_recipe(const DeltaCliOptions& o, const char* fallback_codec) {
  if (!o.codec.empty() && !o.recipe.empty()) return make_error("give at most one of --codec and --recipe");
  if (!o.recipe.empty()) return Recipe::named(o.recipe);
  return Recipe::single_codec(o.codec.empty() ? fallback_codec : o.codec);
}

std::function<void(int, int, const std::string&)> progress(const DeltaCliOptions& o, const char* what) {
  if (o.quiet) return {};
  return [what](int i, int n, const std::string& name) {
    if (!name.empty()) std::fprintf(stderr, "%s: tensor %d/%d %s\n", what, i, n, name.c_str());
  };
}

int delta_main(const DeltaCliOptions& o) {
  std::error_code ec;
  if (std::filesystem::exists(o.out, ec) && !o.force)
    return report_error(o.out + ": already exists (use --force to replace it)");
  auto recipe = pick_recipe(o, "q8");
  if (!recipe.ok()) return report_error(recipe.error());
  auto base = Model::load(o.base);
  if (!base.ok()) return report_error(base.error());
  auto ft = Model::load(o.model);
  if (!ft.ok()) return report_error(ft.error());
  DeltaOptions d;
  d.recipe = std::move(recipe.value());
  d.threads = o.threads;
  d.command_line = "trapetum delta --base " + o.base + " --model " + o.model + " -o " + o.out +
                   (o.codec.empty() ? "" : " --codec " + o.codec) + (o.recipe.empty() ? "" : " --recipe " + o.recipe);
  d.progress = progress(o, "delta");
  auto r = make_delta(*base.value(), *ft.value(), o.out, d);
  if (!r.ok()) return report_error(r.error());
  std::printf("%s: %d tensors, %.2f MB, %.3f bits per weight; |delta|/|W| %.5f, delta error %.5f of |delta|, "
              "%.2e of |W|\n",
              o.out.c_str(), r->tensors, double(r->file_bytes) / 1e6, r->bits_per_weight, r->delta_rel_norm,
              r->rel_error, r->weight_rel_error);
  return 0;
}

int materialize_main(const DeltaCliOptions& o) {
  auto recipe = pick_recipe(o, "q8");
  if (!recipe.ok()) return report_error(recipe.error());
  MaterializeOptions m;
  m.recipe = std::move(recipe.value());
  m.force = o.force;
  m.threads = o.threads;
  if (o.dtype == "f16") m.hf.dtype = DType::kF16;
  else if (o.dtype == "bf16") m.hf.dtype = DType::kBF16;
  else if (o.dtype != "f32") return report_error("--dtype '" + o.dtype + "': expected f32, f16 or bf16");
  m.command_line = "trapetum materialize --base " + o.base + " --delta " + o.delta + " -o " + o.out;
  m.progress = progress(o, "materialize");
  if (Status s = materialize_delta(o.base, o.delta, o.out, m); !s.ok()) return report_error(s.error());
  std::printf("%s: written\n", o.out.c_str());
  return 0;
}

}  // namespace

void add_delta(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<DeltaCliOptions>();
  CLI::App* cmd = app.add_subcommand("delta", "Store a fine-tuned model as a compressed difference from its base");
  cmd->add_option("--base", o->base, "Base model (.gguf, .cbk or HF directory)")->required();
  cmd->add_option("--model", o->model, "Fine-tuned model with the same tensors")->required();
  cmd->add_option("-o,--output", o->out, "Output delta .cbk")->required();
  cmd->add_option("--codec", o->codec, "Codec of the difference matrices (default q8)");
  cmd->add_option("--recipe", o->recipe, "Named recipe for the difference matrices");
  cmd->add_flag("--force", o->force, "Replace an existing output file");
  cmd->add_flag("-q,--quiet", o->quiet, "No progress on stderr");
  add_threads_option(cmd, &o->threads);
  cmd->callback([o, exit_code] { *exit_code = delta_main(*o); });
}

void add_materialize(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<DeltaCliOptions>();
  CLI::App* cmd = app.add_subcommand("materialize", "Rebuild a fine-tuned model from its base and a delta");
  cmd->add_option("--base", o->base, "Base model the delta was made against")->required();
  cmd->add_option("--delta", o->delta, "Delta .cbk from `trapetum delta`")->required();
  cmd->add_option("-o,--output", o->out, "Output: a .cbk, or a HuggingFace directory otherwise")->required();
  cmd->add_option("--codec", o->codec, "Codec of the rebuilt .cbk (default q8)");
  cmd->add_option("--recipe", o->recipe, "Named recipe for the rebuilt .cbk");
  cmd->add_option("--dtype", o->dtype, "HF directory output: f32 (default), f16 or bf16");
  cmd->add_flag("--force", o->force, "Skip the base checksum check; replace an existing output");
  cmd->add_flag("-q,--quiet", o->quiet, "No progress on stderr");
  add_threads_option(cmd, &o->threads);
  cmd->callback([o, exit_code] { *exit_code = materialize_main(*o); });
}

}  // namespace trapetum::cli
