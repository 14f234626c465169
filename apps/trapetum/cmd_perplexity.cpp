// `trapetum perplexity`: perplexity of a text file under the HF sliding-window protocol.
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "runtime/perplexity.h"

namespace trapetum::cli {
namespace {

struct PerplexityOptions {
  std::string model, file;
  int ctx = 2048;
  int stride = 512;
  int64_t max_tokens = 0;
  int threads = 1;
  std::string device;
  KvType kv_type = KvType::kF16;
  bool json = false;
};

int perplexity_main(const PerplexityOptions& o) {
  std::string text;
  if (!read_text_file(o.file, &text)) return report_error(o.file + ": cannot read");
  auto loaded = load_for_inference(o.model, o.threads, std::nullopt, o.device);
  if (!loaded.ok()) return report_error(loaded.error());
  LoadedModel& m = loaded.value();
  const Tokenizer& tok = m.model->tokenizer();
  std::vector<int32_t> ids;
  if (tok.spec().add_bos && tok.bos_id() >= 0) ids.push_back(tok.bos_id());
  const std::vector<int32_t> body = tok.encode(text, /*add_special=*/false);
  ids.insert(ids.end(), body.begin(), body.end());
  if (o.max_tokens > 0 && int64_t(ids.size()) > o.max_tokens) ids.resize(size_t(o.max_tokens));
  const bool tty = isatty(STDERR_FILENO);
  auto progress = [&](int done, int total) {
    if (tty) std::fprintf(stderr, "\rperplexity: window %d/%d", done, total);
    else if (done == total || done % 10 == 0) std::fprintf(stderr, "perplexity: window %d/%d\n", done, total);
    if (tty && done == total) std::fprintf(stderr, "\n");
  };
  auto r = perplexity(*m.transformer, ids, o.ctx, o.stride, progress, o.kv_type);
  if (!r.ok()) return report_error(r.error());
  const PerplexityResult& p = r.value();
  if (o.json) {
    nlohmann::json j{{"model", o.model},       {"file", o.file},         {"ctx", o.ctx},
                     {"stride", o.stride},     {"tokens", ids.size()},   {"ppl", p.ppl},
                     {"nll_mean", p.nll_sum / double(p.tokens_scored)},  {"tokens_scored", p.tokens_scored},
                     {"windows", p.windows},   {"seconds", p.seconds},   {"load_s", m.load_seconds},
                     {"kv_type", kv_type_name(o.kv_type)}};
    std::puts(j.dump(2).c_str());
  } else {
    std::printf("ppl %.4f over %lld tokens (%d windows, ctx %d, stride %d) in %.1f s\n", p.ppl,
                static_cast<long long>(p.tokens_scored), p.windows, o.ctx, o.stride, p.seconds);
  }
  return 0;
}

}  // namespace

void add_perplexity(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<PerplexityOptions>();
  CLI::App* cmd = app.add_subcommand("perplexity", "Perplexity of a text file (HF sliding-window protocol)");
  cmd->add_option("-m,--model", o->model, "Model: a .gguf or .cbk file, or a HuggingFace model directory")->required();
  cmd->add_option("-f,--file", o->file, "Text file")->required();
  cmd->add_option("-c,--ctx", o->ctx, "Window length in tokens")->check(CLI::Range(2, 1 << 20))->capture_default_str();
  cmd->add_option("--stride", o->stride, "Tokens between window starts")->check(CLI::Range(1, 1 << 20))->capture_default_str();
  cmd->add_option("--max-tokens", o->max_tokens, "Use only the first N tokens (0 = all)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", o->json, "Print JSON: ppl, tokens_scored, seconds");
  add_threads_option(cmd, &o->threads);
  add_device_option(cmd, &o->device);
  add_kv_type_option(cmd, &o->kv_type);
  cmd->callback([o, exit_code] { *exit_code = perplexity_main(*o); });
}

}  // namespace trapetum::cli
