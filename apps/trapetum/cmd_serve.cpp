// `trapetum serve`: the OpenAI-compatible HTTP server and web chat page for one model, until
// Ctrl-C or SIGTERM.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "commands.h"
#include "server/engine.h"
#include "server/http_server.h"

namespace trapetum::cli {
namespace {

struct ServeOptions {
  std::string model, chat_template, device, model_id;
  server::ServerOptions http;
  server::EngineOptions engine;
  int ctx = 0;
  int threads = 1;
  int max_body_mb = 4;
  int cache_mb = 1024;
};

int serve_main(ServeOptions& o) {
  auto loaded = load_for_inference(o.model, o.threads, std::nullopt, o.device);
  if (!loaded.ok()) return report_error(loaded.error());
  LoadedModel& m = loaded.value();
  const Tokenizer& tok = m.model->tokenizer();
  auto tmpl = pick_chat_template(o.chat_template, o.model, tok);
  if (!tmpl.ok()) return report_error(tmpl.error());
  o.engine.ctx = o.ctx > 0 ? o.ctx : std::min(m.model->config().max_seq_len, 4096);
  if (o.engine.ctx > m.model->config().max_seq_len)
    return report_error(str_cat("--ctx ", o.engine.ctx, " exceeds the model's context of ", m.model->config().max_seq_len));
  o.engine.cache_bytes = size_t(o.cache_mb) << 20;
  auto engine = server::Engine::create(*m.transformer, o.engine);
  if (!engine.ok()) return report_error(engine.error());
  o.http.model_id = o.model_id.empty() ? std::filesystem::path(o.model).filename().string() : o.model_id;
  if (o.http.model_id.empty()) o.http.model_id = std::filesystem::path(o.model).parent_path().filename().string();
  o.http.max_body_bytes = size_t(o.max_body_mb) << 20;
  server::HttpServer http(*engine.value(), tok, *tmpl.value(), o.http);
  if (auto st = http.bind(); !st.ok()) return report_error(st.error());

  // SIGINT and SIGTERM stop the server: a watcher thread turns the flag into stop().
  std::atomic<bool>& interrupted = install_sigint_flag();
  struct sigaction sa {};
  sigaction(SIGINT, nullptr, &sa);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a client that vanishes mid-write is an error return, not a signal
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done.load() && !interrupted.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    http.stop();
  });
  std::fprintf(stderr,
               "trapetum serve: %s (%s) on http://%s:%d with %d slot(s) of %d tokens%s; model id '%s'%s\n",
               o.model.c_str(), kernels_description(m).c_str(), o.http.host.c_str(), http.port(), o.engine.parallel,
               o.engine.ctx, o.engine.context_shift ? " (context shift)" : "", o.http.model_id.c_str(),
               o.http.api_key.empty() ? "" : "; API key required");
  std::fflush(stderr);
  http.run();
  done.store(true);
  watcher.join();
  std::fprintf(stderr, "trapetum serve: stopped\n");
  return 0;
}

}  // namespace

void add_serve(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<ServeOptions>();
  CLI::App* cmd = app.add_subcommand("serve", "OpenAI-compatible HTTP server with a web chat page");
  cmd->add_option("-m,--model", o->model, "Model: a .gguf or .cbk file, or a HuggingFace model directory")->required();
  cmd->add_option("--host", o->http.host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", o->http.port, "Port (0: any free port, printed at start)")
      ->check(CLI::Range(0, 65535))->capture_default_str();
  cmd->add_option("--parallel", o->engine.parallel, "Requests generated at once (slots, each with its own KV cache)")
      ->check(CLI::Range(1, 256))->capture_default_str();
  cmd->add_option("--queue", o->engine.max_queue, "Requests that may wait for a slot; more get 503")
      ->check(CLI::Range(0, 100000))->capture_default_str();
  cmd->add_option("-c,--ctx", o->ctx, "Context length per slot (default: the model's, at most 4096)")
      ->check(CLI::Range(16, 1 << 20));
  cmd->add_option("--api-key", o->http.api_key, "Require 'Authorization: Bearer KEY' on /v1/ endpoints");
  cmd->add_option("--cors", o->http.cors_origin, "Allow cross-origin requests from ORIGIN (default: none)");
  cmd->add_option("--model-id", o->model_id, "The model name clients use (default: the file name)");
  cmd->add_option("--chat-template", o->chat_template,
                  "Chat template: a Jinja file or a built-in name (default: the model's own)");
  cmd->add_option("--max-body-mb", o->max_body_mb, "Largest request body in MB")
      ->check(CLI::Range(1, 1024))->capture_default_str();
  cmd->add_option("--timeout", o->http.request_timeout_s, "Longest a request may take, in seconds")
      ->check(CLI::Range(1, 86400))->capture_default_str();
  cmd->add_flag("--context-shift", o->engine.context_shift,
               "When a slot's context fills, drop the older half of its tokens (after --keep) and go on");
  cmd->add_option("--keep", o->engine.keep, "Tokens at the start that a context shift keeps (attention sinks)")
      ->check(CLI::Range(0, 1 << 19))->capture_default_str();
  cmd->add_option("--cache-mb", o->cache_mb, "Host memory for KV prefixes the slots give up (prompt cache); 0: none")
      ->check(CLI::Range(0, 1 << 20))->capture_default_str();
  add_threads_option(cmd, &o->threads);
  add_device_option(cmd, &o->device);
  add_kv_type_option(cmd, &o->engine.kv_type);
  cmd->callback([o, exit_code] { *exit_code = serve_main(*o); });
}

}  // namespace trapetum::cli
