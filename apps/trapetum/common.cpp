// Helpers shared by the subcommands.
#include <signal.h>

#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/thread_pool.h"
#include "core/timer.h"

namespace trapetum::cli {
namespace {
// A signal handler can only reach static storage, so this is the one process-wide flag.
std::atomic<bool> g_sigint{false};  // NOLINT(cppcoreguidelines-avoid-non-const-global-variables)
void on_sigint(int) { g_sigint.store(true); }
}  // namespace

std::atomic<bool>& install_sigint_flag() {
  g_sigint.store(false);
  struct sigaction sa {};
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  return g_sigint;
}

int report_error(const std::string& message) {
  std::fprintf(stderr, "trapetum: error: %s\n", message.c_str());
  return 1;
}

Result<LoadedModel> load_for_inference(const std::string& path, int threads) {
  LoadedModel m;
  Timer t;
  TRY(m.model, Model::load(path));
  m.backend = std::make_unique<CpuBackend>(threads);
  TRY(m.transformer, Transformer::create(*m.model, *m.backend));
  m.load_seconds = t.seconds();
  return m;
}

void add_sampling_options(CLI::App* cmd, SamplingOptions* o) {
  SamplerParams& p = o->params;
  cmd->add_option("--temp", p.temperature, "Temperature; 0 = greedy")->capture_default_str();
  cmd->add_option("--top-k", p.top_k, "Top-k sampling; 0 = off")->capture_default_str();
  cmd->add_option("--top-p", p.top_p, "Top-p (nucleus) sampling; 1 = off")->capture_default_str();
  cmd->add_option("--min-p", p.min_p, "Min-p sampling; 0 = off")->capture_default_str();
  cmd->add_option("--repeat-penalty", p.repeat_penalty, "Repetition penalty; 1 = off")->capture_default_str();
  cmd->add_option("--repeat-last-n", p.repeat_last_n, "Tokens the repetition penalty looks back over")
      ->capture_default_str();
  cmd->add_option("-s,--seed", o->seed, "Random seed (default: from the clock)");
}

std::string finish_sampling_options(SamplingOptions* o) {
  if (o->seed < 0) o->seed = std::chrono::steady_clock::now().time_since_epoch().count() & 0x7fffffff;
  o->params.seed = uint64_t(o->seed);
  return validate_sampler_params(o->params);
}

void add_threads_option(CLI::App* cmd, int* threads) {
  *threads = ThreadPool::default_threads();
  cmd->add_option("-t,--threads", *threads, "Worker threads (default: physical cores)")
      ->check(CLI::Range(1, 1024))
      ->capture_default_str();
}

std::string json_string(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace trapetum::cli
