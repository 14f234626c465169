// Helpers shared by the subcommands.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/thread_pool.h"
#include "core/timer.h"

namespace trapetum::cli {
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
