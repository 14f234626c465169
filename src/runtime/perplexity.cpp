// Perplexity under the HF sliding-window protocol.
#include "runtime/perplexity.h"

#include <algorithm>
#include <cmath>

#include "core/timer.h"

namespace trapetum {

Result<std::vector<PerplexityWindow>> perplexity_windows(int64_t n, int ctx, int stride) {
  if (ctx < 2) return make_error("perplexity: --ctx must be at least 2, got ", ctx);
  if (stride < 1 || stride > ctx) return make_error("perplexity: --stride must be in 1..ctx (", ctx, "), got ", stride);
  if (n < 2) return make_error("perplexity: the text gives ", n, " tokens; at least 2 are needed");
  std::vector<PerplexityWindow> windows;
  int64_t prev_end = 0;
  for (int64_t begin = 0; begin < n; begin += stride) {
    const int64_t end = std::min(begin + ctx, n);
    const int64_t trg_len = end - prev_end;
    const int64_t len = end - begin;
    windows.push_back({begin, end, std::max<int64_t>(1, len - trg_len)});
    prev_end = end;
    if (end == n) break;
  }
  return windows;
}

Status eval_window(Session& session, const std::vector<int32_t>& ids, const PerplexityWindow& w,
                   const std::function<void(int64_t, const float*)>& fn) {
  const int64_t len = w.end - w.begin;
  session.reset();
  std::span<const int32_t> window(ids.data() + w.begin, size_t(len));
  return session.eval_all(window, [&](int64_t i, const float* logits) {
    const int64_t j = i + 1;  // logits after token i predict token j
    if (j < w.first_scored || j >= len) return;
    fn(w.begin + j, logits);
  });
}

double token_nll(const float* logits, int vocab, int32_t target) {
  double mx = logits[0];
  for (int v = 1; v < vocab; ++v) mx = std::max(mx, double(logits[v]));
  double sum = 0;
  for (int v = 0; v < vocab; ++v) sum += std::exp(double(logits[v]) - mx);
  return std::log(sum) + mx - double(logits[target]);
}

Result<PerplexityResult> perplexity(const Transformer& t, const std::vector<int32_t>& ids, int ctx, int stride,
                                    const std::function<void(int, int)>& progress, KvType kv_type) {
  TRY(const std::vector<PerplexityWindow> windows, perplexity_windows(int64_t(ids.size()), ctx, stride));
  Timer timer;
  TRY(auto session, Session::create(t, ctx, Session::kDefaultMaxBatch, kv_type));
  const int vocab = t.config().vocab_size;
  PerplexityResult r;
  for (const PerplexityWindow& w : windows) {
    TRY_STATUS(eval_window(*session, ids, w, [&](int64_t j, const float* logits) {
      r.nll_sum += token_nll(logits, vocab, ids[size_t(j)]);
      ++r.tokens_scored;
    }));
    ++r.windows;
    if (progress) progress(r.windows, int(windows.size()));
  }
  r.ppl = std::exp(r.nll_sum / double(r.tokens_scored));
  r.seconds = timer.seconds();
  return r;
}

}  // namespace trapetum
