// `trapetum dequantize`: any model (typically a .cbk) back to a HuggingFace safetensors directory.
#include <cstdio>

#include "commands.h"
#include "press/dequantize.h"

namespace trapetum::cli {
namespace {

struct DequantizeCliOptions {
  std::string model, out, dtype = "f32";
  bool force = false, quiet = false;
};

Result<DType> parse_dtype(const std::string& s) {
  if (s == "f32" || s == "F32") return DType::kF32;
  if (s == "f16" || s == "F16") return DType::kF16;
  if (s == "bf16" || s == "BF16") return DType::kBF16;
  return make_error("--dtype '", s, "': expected f32, f16 or bf16");
}

int dequantize_main(const DequantizeCliOptions& o) {
  auto dtype = parse_dtype(o.dtype);
  if (!dtype.ok()) return report_error(dtype.error());
  auto model = Model::load(o.model);
  if (!model.ok()) return report_error(model.error());
  DequantizeOptions d;
  d.dtype = dtype.value();
  d.force = o.force;
  d.cancel = &install_sigint_flag();
  if (!o.quiet)
    d.progress = [](int i, int n, const std::string& name) {
      if (!name.empty()) std::fprintf(stderr, "dequantize: tensor %d/%d %s\n", i, n, name.c_str());
    };
  auto r = dequantize_model(*model.value(), o.out, d);
  if (!r.ok()) return report_error(r.error());
  std::printf("%s: %d tensors, %lld parameters, %.2f MB of %s safetensors, %.2f s\n", o.out.c_str(), r->tensors,
              static_cast<long long>(r->params), double(r->bytes) / 1e6, o.dtype.c_str(), r->seconds);
  return 0;
}

}  // namespace

void add_dequantize(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<DequantizeCliOptions>();
  CLI::App* cmd = app.add_subcommand("dequantize", "Write a model as a HuggingFace safetensors directory");
  cmd->add_option("model", o->model, "Source model: .cbk, .gguf or a HuggingFace directory")->required();
  cmd->add_option("-o,--output", o->out, "Output directory (written atomically)")->required();
  cmd->add_option("--dtype", o->dtype, "Weight dtype: f32 (default), f16 or bf16");
  cmd->add_flag("--force", o->force, "Replace an existing output directory");
  cmd->add_flag("-q,--quiet", o->quiet, "No progress on stderr");
  cmd->callback([o, exit_code] { *exit_code = dequantize_main(*o); });
}

}  // namespace trapetum::cli
