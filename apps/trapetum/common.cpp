// Helpers shared by the subcommands.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
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

Result<CpuOptions> cpu_options_from_env() {
  CpuOptions o;
  if (const char* v = std::getenv("TRAPETUM_ISA"); v && *v) {
    const auto isa = cpu::isa_from_name(v);
    if (!isa) return make_error("TRAPETUM_ISA: unknown ISA '", v, "' (generic, avx2, avx512 or neon)");
    const auto ok = cpu::supported_isas();
    if (std::find(ok.begin(), ok.end(), *isa) == ok.end())
      return make_error("TRAPETUM_ISA: this CPU cannot run ", v, " (best: ", cpu::isa_name(cpu::detect_isa()), ")");
    o.isa = *isa;
  }
  if (const char* v = std::getenv("TRAPETUM_ACT"); v && *v) {
    const std::string s = v;
    if (s != "int8" && s != "f32") return make_error("TRAPETUM_ACT: unknown mode '", s, "' (int8 or f32)");
    o.act = s == "int8" ? cpu::ActMode::kInt8 : cpu::ActMode::kFloat;
  }
  return o;
}

const char* act_mode_name(cpu::ActMode a) { return a == cpu::ActMode::kInt8 ? "int8" : "f32"; }

Result<LoadedModel> load_for_inference(const std::string& path, int threads, std::optional<cpu::ActMode> act,
                                       const std::string& device) {
  LoadedModel m;
  Timer t;
  BackendOptions b;
  TRY(b.device, device_from_name(device));
  TRY(b.cpu, cpu_options_from_env());
  if (act) b.cpu.act = *act;
  b.threads = threads;
  TRY(m.backend, make_backend(b));  // before loading: a missing GPU fails fast
  m.device = b.device;
  if (b.device == DeviceKind::kCpu) m.cpu = static_cast<CpuBackend*>(m.backend.get());
  TRY(m.model, Model::load(path));
  TRY(m.transformer, Transformer::create(*m.model, *m.backend));
  m.load_seconds = t.seconds();
  return m;
}

std::string kernels_description(const LoadedModel& m) {
  if (m.cpu) return str_cat(cpu::isa_name(m.cpu->isa()), ", ", act_mode_name(m.cpu->act()), " activations");
  return str_cat(m.backend->describe(), ", f32 activations");
}

const char* act_mode_name(const LoadedModel& m) { return m.cpu ? act_mode_name(m.cpu->act()) : "f32"; }

void add_device_option(CLI::App* cmd, std::string* device) {
  *device = "cpu";
  cmd->add_option("--device", *device, "Where to run: cpu, or cuda (an NVIDIA GPU; builds with -DTRAPETUM_CUDA=ON)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
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

void add_kv_type_option(CLI::App* cmd, KvType* type) {
  *type = KvType::kF16;
  const std::vector<std::pair<std::string, KvType>> names = {
      {"f16", KvType::kF16}, {"q8", KvType::kQ8}, {"f32", KvType::kF32}};
  cmd->add_option("--kv-type", *type, "KV cache element type: f16, q8 (int8 blocks of 32) or f32 (exact)")
      ->transform(CLI::CheckedTransformer(names))
      ->default_str("f16");
}

Result<std::unique_ptr<ChatTemplate>> pick_chat_template(const std::string& choice, const std::string& model,
                                                         const Tokenizer& tok) {
  if (!choice.empty()) {
    if (std::filesystem::is_regular_file(choice)) {
      std::string src;
      if (!read_text_file(choice, &src)) return make_error(choice, ": cannot read");
      auto t = ChatTemplate::parse(src);
      if (!t.ok()) return make_error(choice, ": ", t.error());
      return t;
    }
    return ChatTemplate::builtin(choice);
  }
  if (!tok.spec().chat_template.empty()) {
    auto t = ChatTemplate::parse(tok.spec().chat_template);
    if (!t.ok()) return make_error(model, ": the model's chat template: ", t.error());
    return t;
  }
  std::fprintf(stderr, "trapetum: %s has no chat template; using chatml (choose with --chat-template)\n",
               model.c_str());
  return ChatTemplate::builtin("chatml");
}

std::string json_string(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace trapetum::cli
