// `trapetum bench`: pp and tg tokens/s (median and spread), load time, peak RSS, weight
// bytes per decode token, and the bandwidth they imply against the machine's measured copy
// bandwidth (the batch-1 decode roofline).
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/thread_pool.h"
#include "core/timer.h"
#include "runtime/bandwidth.h"
#include "runtime/bench.h"
#include "runtime/energy_meter.h"

#if TRAPETUM_HAS_CUDA
#include "backend/cuda_backend.h"
#endif

namespace trapetum::cli {
namespace {

struct BenchCliOptions {
  std::string model;
  BenchOptions bench;
  int threads = 1;
  std::string device;
  int bw_mb = 1024;
  bool json = false;
};

int bench_main(const BenchCliOptions& o) {
  auto loaded = load_for_inference(o.model, o.threads, std::nullopt, o.device);
  if (!loaded.ok()) return report_error(loaded.error());
  LoadedModel& m = loaded.value();
  const int need = o.bench.prompt_tokens + o.bench.gen_tokens + 1;
  if (need > m.model->config().max_seq_len)
    return report_error(str_cat("-p + -n = ", need - 1, " tokens exceeds the model's context of ",
                                m.model->config().max_seq_len));
  // GPU energy over the decode windows, from NVML when the driver has it.
  std::unique_ptr<EnergyMeter> meter;
  std::string energy_note;
  EnergyReading energy;
  BenchOptions bo = o.bench;
  if (!m.cpu) {
    auto em = EnergyMeter::open(0);
    if (em.ok()) {
      meter = std::move(em.value());
      bo.tg_begin = [&] { meter->start(); };
      bo.tg_end = [&] {
        const EnergyReading e = meter->stop();
        energy.joules += e.joules;
        energy.seconds += e.seconds;
        energy.samples += e.samples;
        energy.method = e.method;
      };
    } else {
      energy_note = em.error();
      std::fprintf(stderr, "trapetum: no energy readings: %s\n", energy_note.c_str());
    }
  }
  auto r = run_bench(*m.transformer, bo);
  if (!r.ok()) return report_error(r.error());
  const int64_t tg_total = int64_t(o.bench.gen_tokens) * std::max(1, o.bench.reps);
  const bool has_energy = meter && energy.samples > 0 && tg_total > 0;
  const nlohmann::json j_per_token = has_energy ? nlohmann::json(energy.joules / double(tg_total)) : nlohmann::json();
  const nlohmann::json mean_power =
      has_energy && energy.seconds > 0 ? nlohmann::json(energy.joules / energy.seconds) : nlohmann::json();
  const BenchResult& b = r.value();
  const double rss = peak_rss_mb();  // before the bandwidth buffers exist
  BandwidthResult bw;
  nlohmann::json gpu;  // null on the CPU
  if (m.cpu) {
    ThreadPool pool(o.threads);  // the backend's pool is idle meanwhile: no oversubscription
    bw = measure_copy_bandwidth(pool, int64_t(o.bw_mb) << 20, 5);
  } else {
#if TRAPETUM_HAS_CUDA
    auto& cb = static_cast<CudaBackend&>(*m.backend);
    auto gbs = cb.copy_bandwidth_gb_s(int64_t(o.bw_mb) << 20, 20);
    if (!gbs.ok()) return report_error(gbs.error());
    bw.gb_per_s = gbs.value();
    gpu = {{"device_name", cb.props().name},
           {"sm", cb.props().sm},
           {"vram_weights_mb", double(cb.weight_bytes()) / (1 << 20)},
           {"vram_peak_mb", double(cb.peak_allocated_bytes()) / (1 << 20)},
           {"graph_replays", cb.graph_replays()}};
#endif
  }
  const int64_t bytes = decode_weight_bytes(*m.model);
  const double achieved = double(bytes) * b.tg_tok_s.median / 1e9;
  const double roofline = bw.gb_per_s * 1e9 / double(bytes);
  if (o.json) {
    auto spread = [](const Spread& s) { return nlohmann::json{{"median", s.median}, {"min", s.min}, {"max", s.max}}; };
    nlohmann::json j{{"model", o.model},
                     {"threads", o.threads},
                     {"kv_type", kv_type_name(o.bench.kv_type)},
                     {"device", device_name(m.device)},
                     {"kernels", kernels_description(m)},
                     {"isa", m.cpu ? cpu::isa_name(m.cpu->isa()) : "cuda"},
                     {"act", act_mode_name(m)},
                     {"gpu", gpu},
                     {"vram_mb", gpu.is_null() ? nlohmann::json() : gpu["vram_peak_mb"]},
                     {"j_per_token", j_per_token},
                     {"mean_power_w", mean_power},
                     {"energy_method", has_energy ? nlohmann::json(energy.method) : nlohmann::json()},
                     {"energy_note", energy_note},
                     {"reps", o.bench.reps},
                     {"prompt_tokens", o.bench.prompt_tokens},
                     {"gen_tokens", o.bench.gen_tokens},
                     {"pp_tok_s", spread(b.pp_tok_s)},
                     {"tg_tok_s", spread(b.tg_tok_s)},
                     {"pp_runs", b.pp_runs},
                     {"tg_runs", b.tg_runs},
                     {"load_s", m.load_seconds},
                     {"peak_rss_mb", rss},
                     {"decode_weight_bytes", bytes},
                     {"achieved_gb_s", achieved},
                     {"copy_bandwidth_gb_s", bw.gb_per_s},
                     {"bandwidth_fraction", achieved / bw.gb_per_s},
                     {"roofline_tg_tok_s", roofline}};
    std::puts(j.dump(2).c_str());
    return 0;
  }
  std::printf("model            %s\n", o.model.c_str());
  std::printf("threads          %d, %d reps\n", o.threads, o.bench.reps);
  std::printf("kv cache         %s\n", kv_type_name(o.bench.kv_type));
  std::printf("kernels          %s\n", kernels_description(m).c_str());
  if (!gpu.is_null())
    std::printf("vram             %.0f MiB peak (%.0f MiB of weights)\n", gpu["vram_peak_mb"].get<double>(),
                gpu["vram_weights_mb"].get<double>());
  if (has_energy)
    std::printf("energy           %.3f J/token, %.0f W mean over the decode windows (%s)\n",
                j_per_token.get<double>(), mean_power.get<double>(), energy.method.c_str());
  std::printf("load             %.3f s\n", m.load_seconds);
  std::printf("pp%-5d          %9.1f tok/s  (min %.1f, max %.1f)\n", o.bench.prompt_tokens, b.pp_tok_s.median,
              b.pp_tok_s.min, b.pp_tok_s.max);
  std::printf("tg%-5d          %9.1f tok/s  (min %.1f, max %.1f)\n", o.bench.gen_tokens, b.tg_tok_s.median,
              b.tg_tok_s.min, b.tg_tok_s.max);
  std::printf("weights/token    %.2f MB read per decode step\n", double(bytes) / 1e6);
  std::printf("achieved         %.2f GB/s = %.1f%% of the measured copy bandwidth %.2f GB/s\n", achieved,
              100.0 * achieved / bw.gb_per_s, bw.gb_per_s);
  std::printf("roofline         %.1f tok/s (bandwidth / weight bytes per token)\n", roofline);
  std::printf("peak RSS         %.0f MiB\n", rss);
  return 0;
}

}  // namespace

void add_bench(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<BenchCliOptions>();
  CLI::App* cmd = app.add_subcommand("bench", "Prompt and generation speed against the memory-bandwidth roofline");
  cmd->add_option("-m,--model", o->model, "Model: a .gguf or .cbk file, or a HuggingFace model directory");
  cmd->add_option("-p,--prompt-tokens", o->bench.prompt_tokens, "Prompt tokens (pp)")
      ->check(CLI::Range(0, 1 << 20))->capture_default_str();
  cmd->add_option("-n,--gen-tokens", o->bench.gen_tokens, "Generated tokens (tg)")
      ->check(CLI::Range(0, 1 << 20))->capture_default_str();
  cmd->add_option("-r,--reps", o->bench.reps, "Repetitions; the median is reported")
      ->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_option("--bandwidth-mb", o->bw_mb, "Size of each buffer of the bandwidth copy")
      ->check(CLI::Range(16, 1 << 16))->capture_default_str();
  cmd->add_flag("--json", o->json, "Print JSON");
  add_threads_option(cmd, &o->threads);
  add_device_option(cmd, &o->device);
  add_kv_type_option(cmd, &o->bench.kv_type);
  CLI::App* kernels = add_bench_kernels(cmd, exit_code);
  cmd->require_subcommand(0, 1);
  cmd->callback([o, exit_code, cmd, kernels] {
    if (cmd->got_subcommand(kernels)) return;
    if (o->model.empty()) {
      *exit_code = report_error("bench: --model is required (or run `trapetum bench kernels`)");
      return;
    }
    *exit_code = bench_main(*o);
  });
}

}  // namespace trapetum::cli
