// `trapetum run`: generate text from a prompt, streaming it, or print one JSON report.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/timer.h"
#include "runtime/generate.h"

namespace trapetum::cli {
namespace {

struct RunOptions {
  std::string model, prompt;
  int n_predict = 128;
  int ctx = 0;
  int threads = 1;
  KvType kv_type = KvType::kF16;
  bool json = false;
  bool ignore_eos = false;
  bool no_special = false;
  SamplingOptions sampling;
  std::string device;
  std::string logits_out;
};

int run_main(RunOptions& o) {
  if (auto err = finish_sampling_options(&o.sampling); !err.empty()) return report_error(err);
  auto loaded = load_for_inference(o.model, o.threads, std::nullopt, o.device);
  if (!loaded.ok()) return report_error(loaded.error());
  LoadedModel& m = loaded.value();
  const ModelConfig& c = m.model->config();
  const Tokenizer& tok = m.model->tokenizer();
  const std::vector<int32_t> prompt = tok.encode(o.prompt, !o.no_special);
  if (prompt.empty()) return report_error("the prompt encodes to no tokens; give a non-empty --prompt");
  const int ctx = o.ctx > 0 ? o.ctx : std::min(c.max_seq_len, 4096);
  if (int(prompt.size()) > ctx)
    return report_error(str_cat("the prompt is ", prompt.size(), " tokens, longer than the context of ", ctx,
                                " tokens (raise --ctx, at most the model's ", c.max_seq_len, ")"));
  auto session = Session::create(*m.transformer, ctx, Session::kDefaultMaxBatch, o.kv_type);
  if (!session.ok()) return report_error(session.error());
  Sampler sampler(o.sampling.params);
  GenerateOptions gopt;
  gopt.max_tokens = std::min(o.n_predict, ctx - int(prompt.size()));
  gopt.stop_at_eog = !o.ignore_eos;
  // --logits-out: written to a temporary name and renamed once complete.
  std::FILE* logits_file = nullptr;
  const std::string logits_tmp = o.logits_out + ".partial";
  if (!o.logits_out.empty()) {
    logits_file = std::fopen(logits_tmp.c_str(), "wb");
    if (!logits_file) return report_error(o.logits_out + ": cannot create");
    gopt.on_logits = [&](const float* l) { std::fwrite(l, sizeof(float), size_t(c.vocab_size), logits_file); };
  }
  auto on_text = [&](const std::string& piece) {
    if (!o.json) {
      std::fwrite(piece.data(), 1, piece.size(), stdout);
      std::fflush(stdout);
    }
    return true;
  };
  if (!o.json) {
    std::fputs(o.prompt.c_str(), stdout);
    std::fflush(stdout);
  }
  auto r = generate(*session.value(), tok, prompt, sampler, gopt, on_text);
  if (logits_file) {
    const bool no_error = std::ferror(logits_file) == 0;
    const bool written = std::fclose(logits_file) == 0 && no_error;
    if (!written || !r.ok() || std::rename(logits_tmp.c_str(), o.logits_out.c_str()) != 0) {
      std::remove(logits_tmp.c_str());
      if (r.ok()) return report_error(o.logits_out + ": write failed");
    }
  }
  if (!r.ok()) return report_error(r.error());
  const GenerateResult& g = r.value();
  const double prefill_tok_s = g.prefill_seconds > 0 ? double(prompt.size()) / g.prefill_seconds : 0;
  const double decode_tok_s = g.decode_seconds > 0 ? double(g.decode_steps) / g.decode_seconds : 0;
  if (o.json) {
    nlohmann::json j;
    j["model"] = o.model;
    j["prompt_ids"] = prompt;
    j["generated_ids"] = g.generated;
    j["text"] = g.text;
    j["stop_reason"] = g.stop_reason;
    j["prefill_tok_s"] = prefill_tok_s;
    j["decode_tok_s"] = decode_tok_s;
    j["load_s"] = m.load_seconds;
    j["peak_rss_mb"] = peak_rss_mb();
    j["seed"] = o.sampling.seed;
    j["threads"] = o.threads;
    j["kv_type"] = kv_type_name(o.kv_type);
    j["device"] = device_name(m.device);
    j["kernels"] = kernels_description(m);
    std::puts(j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("\n");
    std::fprintf(stderr,
                 "\n[load %.2f s | prompt %zu tokens, %.1f tok/s | generated %zu tokens, %.1f tok/s | "
                 "stop: %s | peak RSS %.0f MiB]\n",
                 m.load_seconds, prompt.size(), prefill_tok_s, g.generated.size(), decode_tok_s,
                 g.stop_reason.c_str(), peak_rss_mb());
  }
  return 0;
}

}  // namespace

void add_run(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Generate text from a prompt, streaming it to stdout");
  cmd->add_option("-m,--model", o->model, "Model: a .gguf or .cbk file, or a HuggingFace model directory")->required();
  cmd->add_option("-p,--prompt", o->prompt, "Prompt text")->required();
  cmd->add_option("-n,--n-predict", o->n_predict, "Tokens to generate")->check(CLI::Range(0, 1 << 20))->capture_default_str();
  add_sampling_options(cmd, &o->sampling);
  cmd->add_option("-c,--ctx", o->ctx, "Context length in tokens (default: the model's, at most 4096)")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_flag("--ignore-eos", o->ignore_eos, "Keep generating past end-of-generation tokens");
  cmd->add_flag("--no-special", o->no_special, "Do not add BOS/EOS to the prompt");
  cmd->add_flag("--json", o->json, "Print one JSON object with ids, text and timings instead of streaming");
  cmd->add_option("--logits-out", o->logits_out,
                  "Write the logits each generated token was drawn from: float32 rows of vocab size")
      ->capture_default_str();
  add_device_option(cmd, &o->device);
  add_threads_option(cmd, &o->threads);
  add_kv_type_option(cmd, &o->kv_type);
  cmd->callback([o, exit_code] { *exit_code = run_main(*o); });
}

}  // namespace trapetum::cli
