// `trapetum chat`: an interactive multi-turn chat. The KV cache is kept across turns, answers
// stream, Ctrl-C stops the current answer, /reset and /exit work, and stdin may be a pipe
// (one user turn per line).
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>

#include "commands.h"
#include "runtime/chat.h"

namespace trapetum::cli {
namespace {

struct ChatOptions {
  std::string model, system, chat_template;
  int n_predict = 512;
  int ctx = 0;
  int threads = 1;
  std::string device;
  KvType kv_type = KvType::kF16;
  bool quiet = false;
  bool ignore_eos = false;
  SamplingOptions sampling;
};

int chat_main(ChatOptions& o) {
  if (auto err = finish_sampling_options(&o.sampling); !err.empty()) return report_error(err);
  auto loaded = load_for_inference(o.model, o.threads, std::nullopt, o.device);
  if (!loaded.ok()) return report_error(loaded.error());
  LoadedModel& m = loaded.value();
  const Tokenizer& tok = m.model->tokenizer();
  auto tmpl = pick_chat_template(o.chat_template, o.model, tok);
  if (!tmpl.ok()) return report_error(tmpl.error());
  const int ctx = o.ctx > 0 ? o.ctx : std::min(m.model->config().max_seq_len, 4096);
  auto session = Session::create(*m.transformer, ctx, Session::kDefaultMaxBatch, o.kv_type);
  if (!session.ok()) return report_error(session.error());
  Conversation conv(*session.value(), tok, *tmpl.value(), o.system);
  Sampler sampler(o.sampling.params);
  GenerateOptions gopt;
  gopt.max_tokens = o.n_predict;
  gopt.stop_at_eog = !o.ignore_eos;

  std::atomic<bool>& interrupted = install_sigint_flag();

  const bool tty = isatty(STDIN_FILENO);
  if (tty && !o.quiet)
    std::fprintf(stderr, "trapetum chat: %s. /reset starts over, /exit or Ctrl-D quits, Ctrl-C stops an answer.\n",
                 o.model.c_str());
  std::string line;
  for (;;) {
    if (tty) {
      std::fputs("> ", stdout);
      std::fflush(stdout);
    }
    interrupted.store(false);
    if (!std::getline(std::cin, line)) break;
    if (line == "/exit" || line == "/quit") break;
    if (line == "/reset") {
      conv.reset();
      if (!o.quiet) std::fprintf(stderr, "[conversation reset]\n");
      continue;
    }
    if (line.empty()) continue;
    interrupted.store(false);
    auto on_text = [&](const std::string& piece) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
      return !interrupted.load();
    };
    auto r = conv.user_turn(line, sampler, gopt, on_text);
    std::fputs("\n", stdout);
    std::fflush(stdout);
    if (!r.ok()) {
      std::fprintf(stderr, "trapetum: error: %s\n", r.error().c_str());
      continue;
    }
    const TurnResult& t = r.value();
    if (!o.quiet) {
      const GenerateResult& g = t.generation;
      std::fprintf(stderr, "[prefill %d tokens (cached %d of %d) | generated %zu tokens, %.1f tok/s | stop: %s]\n",
                   t.prefilled_tokens, t.cached_tokens, t.prompt_tokens, g.generated.size(),
                   g.decode_seconds > 0 ? g.decode_steps / g.decode_seconds : 0.0,
                   interrupted.load() ? "interrupted" : g.stop_reason.c_str());
    }
  }
  return 0;
}

}  // namespace

void add_chat(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<ChatOptions>();
  CLI::App* cmd = app.add_subcommand("chat", "Interactive multi-turn chat (stdin may be a pipe: one turn per line)");
  cmd->add_option("-m,--model", o->model, "Model: a .gguf or .cbk file, or a HuggingFace model directory")->required();
  cmd->add_option("--system", o->system, "System prompt");
  cmd->add_option("--chat-template", o->chat_template,
                  "Template: chatml, llama2, llama3, mistral, zephyr, qwen2, or a file of Jinja source "
                  "(default: the model's own)");
  cmd->add_option("-n,--n-predict", o->n_predict, "Most tokens per answer")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  cmd->add_option("-c,--ctx", o->ctx, "Context length in tokens (default: the model's, at most 4096)")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_flag("--ignore-eos", o->ignore_eos, "Keep answering past end-of-generation tokens (until -n)");
  cmd->add_flag("-q,--quiet", o->quiet, "No banner or per-turn statistics on stderr");
  add_sampling_options(cmd, &o->sampling);
  add_threads_option(cmd, &o->threads);
  add_device_option(cmd, &o->device);
  add_kv_type_option(cmd, &o->kv_type);
  cmd->callback([o, exit_code] { *exit_code = chat_main(*o); });
}

}  // namespace trapetum::cli
