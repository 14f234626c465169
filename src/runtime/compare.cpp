// Model-against-reference statistics: KL, top-1, logit error, perplexity, greedy agreement.
#include "runtime/compare.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"
#include "core/timer.h"
#include "runtime/sampler.h"

namespace trapetum {
namespace {

double log_sum_exp(const float* x, int n) {
  double mx = x[0];
  for (int v = 1; v < n; ++v) mx = std::max(mx, double(x[v]));
  double sum = 0;
  for (int v = 0; v < n; ++v) sum += std::exp(double(x[v]) - mx);
  return mx + std::log(sum);
}

}  // namespace

double quantile(std::vector<double> values, double q) {
  CHECK(q >= 0 && q <= 1);
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double h = q * double(values.size() - 1);
  const size_t lo = size_t(h);
  const size_t hi = std::min(lo + 1, values.size() - 1);
  return values[lo] + (h - double(lo)) * (values[hi] - values[lo]);
}

double kl_divergence(const float* ref_logits, const float* test_logits, int vocab) {
  CHECK(vocab > 0);
  const double lse_p = log_sum_exp(ref_logits, vocab), lse_q = log_sum_exp(test_logits, vocab);
  double kl = 0;
  for (int v = 0; v < vocab; ++v) {
    const double log_p = double(ref_logits[v]) - lse_p;
    const double p = std::exp(log_p);
    // p == 0 contributes nothing (the limit of p log p), even where q == 0 too.
    if (p > 0) kl += p * (log_p - (double(test_logits[v]) - lse_q));
  }
  return kl;
}

void DivergenceStats::add(const float* ref_logits, const float* test_logits, int vocab) {
  CHECK(vocab > 0);
  kl_.push_back(kl_divergence(ref_logits, test_logits, vocab));
  if (argmax(ref_logits, vocab) == argmax(test_logits, vocab)) ++top1_agree_;
  for (int v = 0; v < vocab; ++v) {
    const double d = std::fabs(double(ref_logits[v]) - double(test_logits[v]));
    max_abs_dlogit_ = std::max(max_abs_dlogit_, d);
    sum_abs_dlogit_ += d;
  }
  n_logits_ += vocab;
}

double DivergenceStats::kl_mean() const {
  if (kl_.empty()) return 0;
  double sum = 0;
  for (double k : kl_) sum += k;
  return sum / double(kl_.size());
}

double DivergenceStats::kl_max() const { return kl_.empty() ? 0 : *std::max_element(kl_.begin(), kl_.end()); }

double DivergenceStats::top1() const { return kl_.empty() ? 0 : double(top1_agree_) / double(kl_.size()); }

double DivergenceStats::mean_abs_dlogit() const { return n_logits_ == 0 ? 0 : sum_abs_dlogit_ / double(n_logits_); }

Result<TextComparison> compare_on_text(const Transformer& ref, const Transformer& test, const std::vector<int32_t>& ids,
                                       int ctx, int stride, const std::function<void(int, int)>& progress,
                                       KvType kv_type) {
  const int vocab = ref.config().vocab_size;
  if (test.config().vocab_size != vocab)
    return make_error("compare: vocabulary sizes differ (", vocab, " vs ", test.config().vocab_size, ")");
  TRY(const std::vector<PerplexityWindow> windows, perplexity_windows(int64_t(ids.size()), ctx, stride));
  Timer total;
  TRY(auto ref_session, Session::create(ref, ctx, Session::kDefaultMaxBatch, kv_type));
  TRY(auto test_session, Session::create(test, ctx, Session::kDefaultMaxBatch, kv_type));
  TextComparison c;
  std::vector<float> ref_rows;  // (scored positions of the window, vocab) reference logits
  for (const PerplexityWindow& w : windows) {
    Timer timer;
    ref_rows.clear();
    TRY_STATUS(eval_window(*ref_session, ids, w, [&](int64_t j, const float* logits) {
      c.ref.nll_sum += token_nll(logits, vocab, ids[size_t(j)]);
      ++c.ref.tokens_scored;
      ref_rows.insert(ref_rows.end(), logits, logits + vocab);
    }));
    c.ref.seconds += timer.seconds();
    timer.reset();
    size_t row = 0;
    TRY_STATUS(eval_window(*test_session, ids, w, [&](int64_t j, const float* logits) {
      c.test.nll_sum += token_nll(logits, vocab, ids[size_t(j)]);
      ++c.test.tokens_scored;
      CHECK((row + 1) * size_t(vocab) <= ref_rows.size());
      c.stats.add(ref_rows.data() + row * size_t(vocab), logits, vocab);
      ++row;
    }));
    c.test.seconds += timer.seconds();  // includes the comparison itself
    CHECK(row * size_t(vocab) == ref_rows.size());
    ++c.ref.windows;
    ++c.test.windows;
    if (progress) progress(c.ref.windows, int(windows.size()));
  }
  c.ref.ppl = std::exp(c.ref.nll_sum / double(c.ref.tokens_scored));
  c.test.ppl = std::exp(c.test.nll_sum / double(c.test.tokens_scored));
  c.seconds = total.seconds();
  return c;
}

Result<std::vector<int32_t>> greedy_tokens(const Transformer& t, const std::vector<int32_t>& prompt, int n,
                                           KvType kv_type) {
  if (prompt.empty()) return make_error("greedy: the prompt is empty (no tokens to start from)");
  if (n < 0) return make_error("greedy: token count must be non-negative, got ", n);
  std::vector<int32_t> out;
  if (n == 0) return out;
  const int vocab = t.config().vocab_size;
  TRY(auto session, Session::create(t, int(prompt.size()) + n, Session::kDefaultMaxBatch, kv_type));
  TRY(const float* logits, session->eval(prompt));
  for (int i = 0; i < n; ++i) {
    out.push_back(argmax(logits, vocab));
    if (i + 1 == n) break;
    const int32_t one[1] = {out.back()};
    TRY(logits, session->eval(one));
  }
  return out;
}

GreedyMatch match_greedy(const std::vector<int32_t>& ref, const std::vector<int32_t>& test) {
  GreedyMatch m;
  m.n = int(std::min(ref.size(), test.size()));
  bool diverged = false;
  for (int i = 0; i < m.n; ++i) {
    const bool same = ref[size_t(i)] == test[size_t(i)];
    diverged = diverged || !same;
    if (!diverged) ++m.match_prefix;
    if (same) ++m.match_total;
  }
  return m;
}

Status check_same_vocab(const Model& ref, const Model& test) {
  auto describe = [](const Model& m) {
    const int logits = m.config().vocab_size, tokens = m.tokenizer().vocab_size();
    return logits == tokens ? str_cat(tokens, " tokens") : str_cat(logits, " logits and ", tokens, " tokenizer tokens");
  };
  if (ref.config().vocab_size != test.config().vocab_size ||
      ref.tokenizer().vocab_size() != test.tokenizer().vocab_size())
    return make_error("the vocabularies differ: the reference ", ref.path(), " has ", describe(ref), ", the model ",
                      test.path(), " has ", describe(test), "; compare needs two models that share a tokenizer");
  return Ok{};
}

std::vector<int32_t> document_ids(const Tokenizer& tok, const std::string& text) {
  std::vector<int32_t> ids;
  if (tok.spec().add_bos && tok.bos_id() >= 0) ids.push_back(tok.bos_id());
  const std::vector<int32_t> body = tok.encode(text, /*add_special=*/false);
  ids.insert(ids.end(), body.begin(), body.end());
  return ids;
}

Status check_same_ids(const Model& ref, const Model& test, const std::vector<int32_t>& ref_ids,
                      const std::vector<int32_t>& test_ids, const std::string& what) {
  if (ref_ids == test_ids) return Ok{};
  size_t i = 0;
  while (i < ref_ids.size() && i < test_ids.size() && ref_ids[i] == test_ids[i]) ++i;
  auto id_at = [i](const std::vector<int32_t>& v) { return i < v.size() ? std::to_string(v[i]) : "(end)"; };
  return make_error("the tokenizers disagree on ", what, ": the reference ", ref.path(), " gives ", ref_ids.size(),
                    " tokens, the model ", test.path(), " gives ", test_ids.size(), ", first differing at token ", i,
                    " (id ", id_at(ref_ids), " vs ", id_at(test_ids),
                    "); compare needs two models that share a tokenizer");
}

std::vector<std::string> default_greedy_prompts() {
  return {
      "Once upon a time, there was a little girl named",
      "One day, a dog and a cat went to the park. They",
      "The old man looked out of the window and saw",
      "The capital of France is",
      "Water is made of two elements:",
      "The history of the Roman Empire begins",
      "Here is a simple recipe for pancakes. First,",
      "User: Can you tell me a fun fact about the ocean?\nAssistant:",
  };
}

}  // namespace trapetum
