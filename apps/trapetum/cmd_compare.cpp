// `trapetum compare`: a model (typically quantized) against a reference with the same
// tokenizer: KL divergence, top-1 agreement, logit error and perplexity over a text, and
// greedy agreement over a prompt set. A table on stdout, or --json.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "core/timer.h"
#include "runtime/compare.h"

namespace trapetum::cli {
namespace {

struct CompareOptions {
  std::string model, ref, file, prompts;
  int ctx = 512;
  int stride = 0;  // 0 = ctx / 2
  int64_t max_tokens = 4096;
  int greedy_tokens = 16;
  int threads = 1;
  std::string device, ref_device;
  KvType kv_type = KvType::kF16;  // both models' sessions
  bool json = false;
};

struct GreedyRow {
  std::string prompt;
  std::vector<int32_t> ref_ids, quant_ids;
  GreedyMatch match;
};

Result<std::vector<std::string>> read_prompts(const std::string& path) {
  if (path.empty()) return default_greedy_prompts();
  std::string text;
  if (!read_text_file(path, &text)) return make_error(path, ": cannot read");
  std::vector<std::string> prompts;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty()) prompts.push_back(line);
    start = end + 1;
  }
  if (prompts.empty()) return make_error(path, ": no prompts (one per line; empty lines are skipped)");
  return prompts;
}

// Progress on stderr: one rewritten line on a terminal, a line every 10 steps otherwise.
void report_progress(const char* what, int done, int total) {
  if (isatty(STDERR_FILENO)) {
    std::fprintf(stderr, "\rcompare: %s %d/%d", what, done, total);
    if (done == total) std::fprintf(stderr, "\n");
  } else if (done == total || done % 10 == 0) {
    std::fprintf(stderr, "compare: %s %d/%d\n", what, done, total);
  }
}

// Each prompt's ids, after checking that both tokenizers agree on them.
Result<std::vector<std::vector<int32_t>>> encode_prompts(const Model& ref, const Model& quant,
                                                         const std::vector<std::string>& prompts) {
  std::vector<std::vector<int32_t>> out;
  for (size_t i = 0; i < prompts.size(); ++i) {
    const std::string what = str_cat("prompt ", i + 1, " ", json_string(prompts[i]));
    std::vector<int32_t> ids = ref.tokenizer().encode(prompts[i], /*add_special=*/true);
    const std::vector<int32_t> quant_ids = quant.tokenizer().encode(prompts[i], /*add_special=*/true);
    TRY_STATUS(check_same_ids(ref, quant, ids, quant_ids, what));
    if (ids.empty()) return make_error(what, " encodes to no tokens");
    out.push_back(std::move(ids));
  }
  return out;
}

Result<std::vector<GreedyRow>> run_greedy(const LoadedModel& ref, const LoadedModel& quant,
                                          const std::vector<std::string>& prompts,
                                          const std::vector<std::vector<int32_t>>& prompt_ids, int n, KvType kv_type) {
  std::vector<GreedyRow> rows;
  for (size_t i = 0; i < prompts.size(); ++i) {
    GreedyRow row;
    row.prompt = prompts[i];
    TRY(row.ref_ids, greedy_tokens(*ref.transformer, prompt_ids[i], n, kv_type));
    TRY(row.quant_ids, greedy_tokens(*quant.transformer, prompt_ids[i], n, kv_type));
    row.match = match_greedy(row.ref_ids, row.quant_ids);
    rows.push_back(std::move(row));
    report_progress("greedy prompt", int(i + 1), int(prompts.size()));
  }
  return rows;
}

double bits_per_weight(const Model& m) {
  return m.weight_params() ? 8.0 * double(m.weight_bytes()) / double(m.weight_params()) : 0;
}

nlohmann::json to_json(const CompareOptions& o, const LoadedModel& ref, const LoadedModel& quant,
                       const std::vector<int32_t>& ids, const TextComparison* text,
                       const std::vector<GreedyRow>& greedy, double seconds) {
  nlohmann::json j;
  j["model"] = o.model;
  j["ref"] = o.ref;
  j["bits_per_weight_quant"] = bits_per_weight(*quant.model);
  j["bits_per_weight_ref"] = bits_per_weight(*ref.model);
  j["kv_type"] = kv_type_name(o.kv_type);
  j["act_ref"] = act_mode_name(ref);
  j["act_quant"] = act_mode_name(quant);
  j["device_ref"] = device_name(ref.device);
  j["device_quant"] = device_name(quant.device);
  for (const char* k : {"kl_mean", "kl_p99", "kl_max", "top1", "max_abs_dlogit", "mean_abs_dlogit", "ppl_ref",
                        "ppl_quant", "positions"})
    j[k] = nullptr;
  if (text) {
    const DivergenceStats& s = text->stats;
    j["file"] = o.file;
    j["tokens"] = ids.size();
    j["ctx"] = o.ctx;
    j["stride"] = o.stride;
    j["windows"] = text->ref.windows;
    j["positions"] = s.count();
    j["kl_mean"] = s.kl_mean();
    j["kl_p99"] = s.kl_quantile(0.99);
    j["kl_max"] = s.kl_max();
    j["top1"] = s.top1();
    j["max_abs_dlogit"] = s.max_abs_dlogit();
    j["mean_abs_dlogit"] = s.mean_abs_dlogit();
    j["ppl_ref"] = text->ref.ppl;
    j["ppl_quant"] = text->test.ppl;
    j["text_seconds"] = text->seconds;
  }
  const Tokenizer& tok = ref.model->tokenizer();
  auto& arr = j["greedy"] = nlohmann::json::array();
  int full = 0, prefix_sum = 0, total_sum = 0, n_sum = 0;
  for (const GreedyRow& r : greedy) {
    arr.push_back({{"prompt", r.prompt},
                   {"match_prefix", r.match.match_prefix},
                   {"match_total", r.match.match_total},
                   {"n", r.match.n},
                   {"ref_ids", r.ref_ids},
                   {"quant_ids", r.quant_ids},
                   {"ref_text", tok.decode(r.ref_ids, true)},
                   {"quant_text", tok.decode(r.quant_ids, true)}});
    full += r.match.match_prefix == r.match.n;
    prefix_sum += r.match.match_prefix;
    total_sum += r.match.match_total;
    n_sum += r.match.n;
  }
  j["greedy_tokens"] = o.greedy_tokens;
  j["greedy_prompts"] = greedy.size();
  j["greedy_full_match"] = full;
  j["greedy_match_prefix_sum"] = prefix_sum;
  j["greedy_match_total_sum"] = total_sum;
  j["greedy_n_sum"] = n_sum;
  j["load_s"] = ref.load_seconds + quant.load_seconds;
  j["seconds"] = seconds;
  return j;
}

// The table for people; single-line prompts, shortened.
void print_table(const nlohmann::json& j, const LoadedModel& ref, const LoadedModel& quant) {
  std::printf("reference  %s  (%.2f bits/weight, %s activations)\n", j["ref"].get<std::string>().c_str(),
              bits_per_weight(*ref.model), j["act_ref"].get<std::string>().c_str());
  std::printf("model      %s  (%.2f bits/weight, %s activations)\n", j["model"].get<std::string>().c_str(),
              bits_per_weight(*quant.model), j["act_quant"].get<std::string>().c_str());
  if (!j["kl_mean"].is_null()) {
    const double pr = j["ppl_ref"].get<double>(), pq = j["ppl_quant"].get<double>();
    std::printf("\ntext %s: %zu tokens, ctx %d, stride %d, %d windows, %lld positions\n",
                j["file"].get<std::string>().c_str(), j["tokens"].get<size_t>(), j["ctx"].get<int>(),
                j["stride"].get<int>(), j["windows"].get<int>(), j["positions"].get<long long>());
    std::printf("  perplexity       ref %.4f   model %.4f   (%+.3f%%)\n", pr, pq, 100.0 * (pq / pr - 1.0));
    std::printf("  KL(ref||model)   mean %.6g   p99 %.6g   max %.6g\n", j["kl_mean"].get<double>(),
                j["kl_p99"].get<double>(), j["kl_max"].get<double>());
    std::printf("  top-1 agreement  %.4f%%\n", 100.0 * j["top1"].get<double>());
    std::printf("  |delta logit|    max %.6g   mean %.6g\n", j["max_abs_dlogit"].get<double>(),
                j["mean_abs_dlogit"].get<double>());
  }
  if (!j["greedy"].empty()) {
    const int n = j["greedy_tokens"].get<int>();
    std::printf("\ngreedy, %d tokens per prompt (temperature 0, each model on its own):\n", n);
    std::printf("  prefix  equal   prompt\n");
    for (const auto& g : j["greedy"]) {
      std::string p = g["prompt"].get<std::string>();
      for (char& c : p)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';
      if (p.size() > 60) p = p.substr(0, 57) + "...";
      std::printf("  %3d/%-3d %3d/%-3d %s\n", g["match_prefix"].get<int>(), g["n"].get<int>(),
                  g["match_total"].get<int>(), g["n"].get<int>(), p.c_str());
    }
    std::printf("  %d/%d on %d of %zu prompts; %d of %d positions equal; %d leading tokens in all\n", n, n,
                j["greedy_full_match"].get<int>(), j["greedy"].size(), j["greedy_match_total_sum"].get<int>(),
                j["greedy_n_sum"].get<int>(), j["greedy_match_prefix_sum"].get<int>());
  }
}

int compare_main(CompareOptions o) {
  if (o.file.empty() && o.greedy_tokens == 0)
    return report_error("nothing to compare: give a text with -f, or --greedy-tokens above 0");
  if (o.stride == 0) o.stride = std::max(1, o.ctx / 2);
  if (o.stride > o.ctx) return report_error(str_cat("--stride (", o.stride, ") must not exceed --ctx (", o.ctx, ")"));
  std::string text;
  if (!o.file.empty() && !read_text_file(o.file, &text)) return report_error(o.file + ": cannot read");
  Result<std::vector<std::string>> prompts = std::vector<std::string>{};
  if (o.greedy_tokens > 0) prompts = read_prompts(o.prompts);
  if (!prompts.ok()) return report_error(prompts.error());
  auto ref = load_for_inference(o.ref, o.threads, cpu::ActMode::kFloat, o.ref_device);  // the reference runs exact
  if (!ref.ok()) return report_error(ref.error());
  auto quant = load_for_inference(o.model, o.threads, std::nullopt, o.device);
  if (!quant.ok()) return report_error(quant.error());
  if (auto st = check_same_vocab(*ref->model, *quant->model); !st.ok()) return report_error(st.error());
  auto prompt_ids = encode_prompts(*ref->model, *quant->model, prompts.value());
  if (!prompt_ids.ok()) return report_error(prompt_ids.error());
  Timer timer;
  std::vector<int32_t> ids;
  Result<TextComparison> cmp = Error{};
  if (!o.file.empty()) {
    ids = document_ids(ref->model->tokenizer(), text);
    std::vector<int32_t> quant_ids = document_ids(quant->model->tokenizer(), text);
    if (o.max_tokens > 0 && int64_t(ids.size()) > o.max_tokens) ids.resize(size_t(o.max_tokens));
    if (o.max_tokens > 0 && int64_t(quant_ids.size()) > o.max_tokens) quant_ids.resize(size_t(o.max_tokens));
    if (auto st = check_same_ids(*ref->model, *quant->model, ids, quant_ids, o.file); !st.ok())
      return report_error(st.error());
    cmp = compare_on_text(*ref->transformer, *quant->transformer, ids, o.ctx, o.stride,
                          [](int done, int total) { report_progress("window", done, total); }, o.kv_type);
    if (!cmp.ok()) return report_error(cmp.error());
  }
  auto greedy =
      run_greedy(ref.value(), quant.value(), prompts.value(), prompt_ids.value(), o.greedy_tokens, o.kv_type);
  if (!greedy.ok()) return report_error(greedy.error());
  const nlohmann::json j = to_json(o, ref.value(), quant.value(), ids, cmp.ok() ? &cmp.value() : nullptr,
                                   greedy.value(), timer.seconds());
  if (o.json) std::puts(j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  else print_table(j, ref.value(), quant.value());
  return 0;
}

}  // namespace

void add_compare(CLI::App& app, int* exit_code) {
  auto o = std::make_shared<CompareOptions>();
  CLI::App* cmd = app.add_subcommand(
      "compare", "Compare a model (e.g. quantized) with a reference: KL, top-1, perplexity, greedy agreement");
  cmd->add_option("-m,--model", o->model, "Model under test: a .gguf file or a HuggingFace model directory")
      ->required();
  cmd->add_option("--ref", o->ref, "Reference model with the same tokenizer")->required();
  cmd->add_option("-f,--file", o->file, "Text for KL, top-1 and perplexity (default: greedy agreement only)");
  cmd->add_option("--prompts", o->prompts, "Prompts for greedy agreement, one per line (default: 8 built in)");
  cmd->add_option("-c,--ctx", o->ctx, "Window length in tokens")->check(CLI::Range(2, 1 << 20))->capture_default_str();
  cmd->add_option("--stride", o->stride, "Tokens between window starts (default: ctx / 2)")
      ->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--max-tokens", o->max_tokens, "Use only the first N tokens of the text (0 = all)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  cmd->add_option("--greedy-tokens", o->greedy_tokens, "Greedy tokens per prompt (0 = skip)")
      ->check(CLI::Range(0, 1 << 16))
      ->capture_default_str();
  cmd->add_flag("--json", o->json,
                "Print JSON: kl_mean, kl_p99, kl_max, top1, max_abs_dlogit, ppl_ref, ppl_quant, greedy");
  add_threads_option(cmd, &o->threads);
  add_device_option(cmd, &o->device);
  o->ref_device = "cpu";
  cmd->add_option("--ref-device", o->ref_device, "Where the reference runs: cpu or cuda")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
  add_kv_type_option(cmd, &o->kv_type);
  cmd->callback([o, exit_code] { *exit_code = compare_main(*o); });
}

}  // namespace trapetum::cli
