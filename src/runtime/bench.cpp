// run_bench: a fresh session per repetition; pp times one prefill, tg the decode steps.
#include "runtime/bench.h"

#include <algorithm>
#include <random>

#include "core/timer.h"
#include "runtime/session.h"

namespace trapetum {
namespace {

int64_t stored_bytes(const TensorView& v) {
  if (!v.data) return 0;
  const int64_t outliers = v.outliers.nnz ? v.outliers.nnz * 6 + (v.rows() + 1) * 4 : 0;
  return v.nbytes() + outliers;
}

}  // namespace

Spread spread_of(std::vector<double> v) {
  if (v.empty()) return {};
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  const double median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  return {median, v.front(), v.back()};
}

int64_t decode_weight_bytes(const Model& m) {
  const ModelWeights& w = m.weights();
  int64_t bytes = stored_bytes(w.output) + w.token_embd.row_bytes();
  for (const LayerWeights& l : w.layers)
    for (const TensorView* v : {&l.wq, &l.wk, &l.wv, &l.wo, &l.w_gate, &l.w_up, &l.w_down}) bytes += stored_bytes(*v);
  return bytes;
}

Result<BenchResult> run_bench(const Transformer& t, const BenchOptions& o) {
  const int vocab = t.config().vocab_size;
  std::mt19937_64 rng(o.seed);
  std::uniform_int_distribution<int32_t> id(0, vocab - 1);
  BenchResult r;
  for (int rep = 0; rep < std::max(1, o.reps); ++rep) {
    TRY(auto session, Session::create(t, o.prompt_tokens + o.gen_tokens + 1, Session::kDefaultMaxBatch, o.kv_type));
    std::vector<int32_t> prompt(static_cast<size_t>(o.prompt_tokens));
    for (int32_t& x : prompt) x = id(rng);
    if (o.prompt_tokens > 0) {
      Timer timer;
      TRY(const float* logits, session->eval(prompt));
      (void)logits;
      r.pp_runs.push_back(double(o.prompt_tokens) / timer.seconds());
    }
    if (o.gen_tokens > 0) {
      if (o.tg_begin) o.tg_begin();
      Timer timer;
      for (int i = 0; i < o.gen_tokens; ++i) {
        const int32_t tok = id(rng);
        TRY(const float* logits, session->eval({&tok, 1}));
        (void)logits;
      }
      r.tg_runs.push_back(double(o.gen_tokens) / timer.seconds());
      if (o.tg_end) o.tg_end();
    }
  }
  r.pp_tok_s = spread_of(r.pp_runs);
  r.tg_tok_s = spread_of(r.tg_runs);
  return r;
}

}  // namespace trapetum
