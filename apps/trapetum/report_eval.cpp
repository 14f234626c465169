// `trapetum report`: every variant evaluated against the source in lock step, so the source runs
// once per window and once per greedy prompt however many variants there are; the price is
// that all variants (weights and a ctx-long KV cache each) are loaded at the same time.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>

#include "commands.h"
#include "core/check.h"
#include "core/timer.h"
#include "report.h"
#include "runtime/compare.h"

namespace trapetum::cli {
namespace {

// Progress on stderr: one rewritten line on a terminal, a line every 10 steps otherwise.
void report_progress(const std::string& what, int done, int total) {
  if (isatty(STDERR_FILENO)) {
    std::fprintf(stderr, "\r\033[Kreport: %s %d/%d", what.c_str(), done, total);
    if (done == total) std::fprintf(stderr, "\n");
  } else if (done == total || done == 1 || done % 10 == 0) {
    std::fprintf(stderr, "report: %s %d/%d\n", what.c_str(), done, total);
  }
  std::fflush(stderr);
}

// Bytes of the source: the file, or every file under a model directory.
int64_t source_bytes(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(path, ec)) {
    const auto n = fs::file_size(path, ec);
    return ec ? 0 : int64_t(n);
  }
  int64_t sum = 0;
  for (const auto& e : fs::recursive_directory_iterator(path, ec))
    if (e.is_regular_file(ec)) sum += int64_t(e.file_size(ec));
  return sum;
}

struct Loaded {
  LoadedModel m;
  std::unique_ptr<Session> session;
  DivergenceStats stats;
};

Status evaluate_text(const ReportOptions& o, const std::vector<int32_t>& ids, LoadedModel& ref,
                     std::vector<Loaded>& tests, std::vector<Variant>* variants, ReferenceFigures* fig,
                     const std::atomic<bool>& cancel) {
  const int vocab = ref.transformer->config().vocab_size;
  TRY(const std::vector<PerplexityWindow> windows, perplexity_windows(int64_t(ids.size()), o.ctx, o.stride));
  TRY(auto ref_session, Session::create(*ref.transformer, o.ctx));
  for (Loaded& t : tests) {
    TRY(t.session, Session::create(*t.m.transformer, o.ctx));
  }
  std::vector<float> ref_rows;  // (scored positions of the window, vocab) source logits
  const std::string what = str_cat("window (source + ", tests.size(), " variants)");
  for (size_t w = 0; w < windows.size(); ++w) {
    if (cancel) return make_error("interrupted");
    Timer timer;
    ref_rows.clear();
    PerplexityResult& rp = fig->ppl;
    TRY_STATUS(eval_window(*ref_session, ids, windows[w], [&](int64_t j, const float* logits) {
      rp.nll_sum += token_nll(logits, vocab, ids[size_t(j)]);
      ++rp.tokens_scored;
      ref_rows.insert(ref_rows.end(), logits, logits + vocab);
    }));
    rp.seconds += timer.seconds();
    ++rp.windows;
    for (size_t i = 0; i < tests.size(); ++i) {
      timer.reset();
      PerplexityResult& p = (*variants)[i].ppl;
      size_t row = 0;
      TRY_STATUS(eval_window(*tests[i].session, ids, windows[w], [&](int64_t j, const float* logits) {
        p.nll_sum += token_nll(logits, vocab, ids[size_t(j)]);
        ++p.tokens_scored;
        CHECK((row + 1) * size_t(vocab) <= ref_rows.size());
        tests[i].stats.add(ref_rows.data() + row * size_t(vocab), logits, vocab);
        ++row;
      }));
      CHECK(row * size_t(vocab) == ref_rows.size());
      p.seconds += timer.seconds();  // includes the comparison itself
      ++p.windows;
    }
    report_progress(what, int(w + 1), int(windows.size()));
  }
  fig->ppl.ppl = std::exp(fig->ppl.nll_sum / double(fig->ppl.tokens_scored));
  for (size_t i = 0; i < tests.size(); ++i) {
    Variant& v = (*variants)[i];
    const DivergenceStats& s = tests[i].stats;
    v.ppl.ppl = std::exp(v.ppl.nll_sum / double(v.ppl.tokens_scored));
    v.kl_mean = s.kl_mean();
    v.kl_p99 = s.kl_quantile(0.99);
    v.kl_max = s.kl_max();
    v.top1 = s.top1();
    v.positions = s.count();
  }
  return Ok{};
}

Status evaluate_greedy(const ReportOptions& o, LoadedModel& ref, std::vector<Loaded>& tests,
                       std::vector<Variant>* variants, ReferenceFigures* fig, const std::atomic<bool>& cancel) {
  const std::vector<std::string> prompts = default_greedy_prompts();
  fig->greedy_prompts = int(prompts.size());
  if (o.greedy_tokens == 0) return Ok{};
  for (size_t p = 0; p < prompts.size(); ++p) {
    if (cancel) return make_error("interrupted");
    const std::vector<int32_t> ids = ref.model->tokenizer().encode(prompts[p], /*add_special=*/true);
    if (ids.empty()) return make_error("greedy prompt ", p + 1, " encodes to no tokens");
    TRY(const auto ref_out, greedy_tokens(*ref.transformer, ids, o.greedy_tokens));
    for (size_t i = 0; i < tests.size(); ++i) {
      TRY(const auto out, greedy_tokens(*tests[i].m.transformer, ids, o.greedy_tokens));
      const GreedyMatch m = match_greedy(ref_out, out);
      (*variants)[i].greedy_full += m.match_prefix == m.n;
      (*variants)[i].greedy_match_total += m.match_total;
    }
    report_progress("greedy prompt", int(p + 1), int(prompts.size()));
  }
  return Ok{};
}

}  // namespace

Result<ReferenceFigures> evaluate_variants(const ReportOptions& o, std::vector<Variant>* variants,
                                           const std::atomic<bool>& cancel) {
  Timer timer;
  ReferenceFigures fig;
  std::string text;
  if (!read_text_file(o.file, &text)) return make_error(o.file, ": cannot read");
  std::fprintf(stderr, "report: loading the source and %zu variants\n", variants->size());
  TRY(LoadedModel ref, load_for_inference(o.model, o.threads, cpu::ActMode::kFloat));  // exact reference
  fig.bits_per_weight = ref.model->weight_params()
                            ? 8.0 * double(ref.model->weight_bytes()) / double(ref.model->weight_params())
                            : 0;
  fig.file_bytes = source_bytes(o.model);
  std::vector<Loaded> tests(variants->size());
  for (size_t i = 0; i < variants->size(); ++i) {
    TRY(tests[i].m, load_for_inference((*variants)[i].file, o.threads));
    TRY_STATUS(check_same_vocab(*ref.model, *tests[i].m.model));
  }
  std::vector<int32_t> ids = document_ids(ref.model->tokenizer(), text);
  if (o.max_tokens > 0 && int64_t(ids.size()) > o.max_tokens) ids.resize(size_t(o.max_tokens));
  fig.tokens = int64_t(ids.size());
  if (Status s = evaluate_text(o, ids, ref, tests, variants, &fig, cancel); !s.ok())
    return make_error(o.file, ": ", s.error());
  TRY_STATUS(evaluate_greedy(o, ref, tests, variants, &fig, cancel));
  fig.eval_seconds = timer.seconds();
  return fig;
}

}  // namespace trapetum::cli
