// Subcommand registration and the helpers they share (model loading, errors, options).
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <memory>
#include <string>

#include "backend/cpu_backend.h"
#include "backend/make_backend.h"
#include "core/result.h"
#include "model/model.h"
#include "model/transformer.h"
#include "runtime/sampler.h"
#include "tokenizer/chat_template.h"

namespace trapetum::cli {

// Each adds a subcommand whose callback stores its exit code in *exit_code.
void add_run(CLI::App& app, int* exit_code);
void add_inspect(CLI::App& app, int* exit_code);
void add_perplexity(CLI::App& app, int* exit_code);
void add_tokenize(CLI::App& app, int* exit_code);
void add_detokenize(CLI::App& app, int* exit_code);
void add_chat(CLI::App& app, int* exit_code);
void add_synth(CLI::App& app, int* exit_code);
void add_compare(CLI::App& app, int* exit_code);
void add_quantize(CLI::App& app, int* exit_code);
void add_bench(CLI::App& app, int* exit_code);
// `bench kernels`, a subcommand of bench; returns it.
CLI::App* add_bench_kernels(CLI::App* bench, int* exit_code);
void add_report(CLI::App& app, int* exit_code);
void add_dequantize(CLI::App& app, int* exit_code);
void add_delta(CLI::App& app, int* exit_code);
void add_materialize(CLI::App& app, int* exit_code);
void add_serve(CLI::App& app, int* exit_code);

// Prints "trapetum: error: <message>" to stderr; returns the exit code for errors (1).
int report_error(const std::string& message);

// A model loaded and ready to run on a backend.
struct LoadedModel {
  std::unique_ptr<Model> model;
  std::unique_ptr<Backend> backend;
  CpuBackend* cpu = nullptr;  // backend, when it is the CPU one
  DeviceKind device = DeviceKind::kCpu;
  std::unique_ptr<Transformer> transformer;
  double load_seconds = 0;
};

// CPU backend options from TRAPETUM_ISA (generic, avx2, avx512, neon: force a lower ISA) and
// TRAPETUM_ACT (int8, the default, or f32: exact float activations).
Result<CpuOptions> cpu_options_from_env();
// act, when given, overrides TRAPETUM_ACT (a reference model is always run exact); device
// "cpu" or "cuda" (the GPU runs float activations).
Result<LoadedModel> load_for_inference(const std::string& path, int threads,
                                       std::optional<cpu::ActMode> act = std::nullopt,
                                       const std::string& device = "cpu");
// "int8" or "f32": the activation mode a loaded model's backend runs.
const char* act_mode_name(cpu::ActMode a);
// The kernels a loaded model runs, e.g. "avx512, int8 activations" or "cuda: NVIDIA H100".
std::string kernels_description(const LoadedModel& m);
// "int8" or "f32" for a loaded model (the CUDA backend is f32).
const char* act_mode_name(const LoadedModel& m);

// The chat template: choice (a file, or a built-in name) when given, else the model's own,
// else chatml (saying so on stderr).
Result<std::unique_ptr<ChatTemplate>> pick_chat_template(const std::string& choice, const std::string& model,
                                                         const Tokenizer& tok);

// Adds --device cpu|cuda to a subcommand (default cpu).
void add_device_option(CLI::App* cmd, std::string* device);

// Sampling flags shared by run and chat; seed < 0 means "from the clock".
struct SamplingOptions {
  SamplerParams params;
  int64_t seed = -1;
};
void add_sampling_options(CLI::App* cmd, SamplingOptions* o);
// Fills params.seed (from the clock when unset) and validates; "" or an error message.
std::string finish_sampling_options(SamplingOptions* o);

// Installs a SIGINT handler that sets the returned flag (cleared here) instead of killing
// the process; commands poll it to stop cleanly.
std::atomic<bool>& install_sigint_flag();

// Adds --threads to a subcommand (default: physical cores).
void add_threads_option(CLI::App* cmd, int* threads);

// Adds --kv-type f16|q8|f32 (the KV cache's element type; default f16) to a subcommand.
void add_kv_type_option(CLI::App* cmd, KvType* type);

// Escapes s for a JSON string (UTF-8 kept, invalid bytes replaced).
std::string json_string(const std::string& s);

}  // namespace trapetum::cli
