// Perplexity under the HF sliding-window protocol.
#include "runtime/perplexity.h"

#include <algorithm>
#include <cmath>

#include "core/timer.h"
#include "runtime/session.h"

namespace trapetum {

Result<PerplexityResult> perplexity(const Transformer& t, const std::vector<int32_t>& ids, int ctx, int stride,
                                    const std::function<void(int, int)>& progress) {
  if (ctx < 2) return make_error("perplexity: --ctx must be at least 2, got ", ctx);
  if (stride < 1 || stride > ctx) return make_error("perplexity: --stride must be in 1..ctx (", ctx, "), got ", stride);
  if (ids.size() < 2) return make_error("perplexity: the text gives ", ids.size(), " tokens; at least 2 are needed");
  Timer timer;
  TRY(auto session, Session::create(t, ctx));
  const int64_t n = int64_t(ids.size());
  const int vocab = t.config().vocab_size;
  int total_windows = 0;
  for (int64_t begin = 0;; begin += stride) {
    ++total_windows;
    if (std::min(begin + ctx, n) == n) break;
  }
  PerplexityResult r;
  int64_t prev_end = 0;
  for (int64_t begin = 0; begin < n; begin += stride) {
    const int64_t end = std::min(begin + ctx, n);
    const int64_t trg_len = end - prev_end;
    const int64_t len = end - begin;
    const int64_t first_scored = std::max<int64_t>(1, len - trg_len);
    session->reset();
    std::span<const int32_t> window(ids.data() + begin, size_t(len));
    TRY_STATUS(session->eval_all(window, [&](int64_t i, const float* logits) {
      const int64_t j = i + 1;  // logits after token i predict token j
      if (j < first_scored || j >= len) return;
      double mx = logits[0];
      for (int v = 1; v < vocab; ++v) mx = std::max(mx, double(logits[v]));
      double sum = 0;
      for (int v = 0; v < vocab; ++v) sum += std::exp(double(logits[v]) - mx);
      r.nll_sum += std::log(sum) + mx - double(logits[window[size_t(j)]]);
      ++r.tokens_scored;
    }));
    prev_end = end;
    ++r.windows;
    if (progress) progress(r.windows, total_windows);
    if (end == n) break;
  }
  r.ppl = std::exp(r.nll_sum / double(r.tokens_scored));
  r.seconds = timer.seconds();
  return r;
}

}  // namespace trapetum
