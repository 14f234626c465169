// Perplexity under the HuggingFace sliding-window protocol: windows of at most ctx tokens
// start every stride tokens; each scores only the tokens no earlier window scored, never its
// first token; PPL = exp(mean NLL).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "model/transformer.h"
#include "runtime/session.h"

namespace trapetum {

struct PerplexityResult {
  double ppl = 0;
  double nll_sum = 0;
  int64_t tokens_scored = 0;
  int windows = 0;
  double seconds = 0;
};

// One window of the protocol: ids[begin, end) run from position 0; the logits after window
// token i predict window token i + 1, which is scored when it lies in [first_scored, end - begin).
struct PerplexityWindow {
  int64_t begin = 0, end = 0, first_scored = 0;
};

// The protocol's windows over n tokens, in order; errors for a bad ctx, stride or n.
Result<std::vector<PerplexityWindow>> perplexity_windows(int64_t n, int ctx, int stride);

// Runs one window on a reset session (context >= ctx) and calls fn(j, logits) for every scored
// position, j indexing ids, logits (vocab floats, valid during the call) predicting ids[j].
Status eval_window(Session& session, const std::vector<int32_t>& ids, const PerplexityWindow& w,
                   const std::function<void(int64_t, const float*)>& fn);

// -log softmax(logits)[target], in double.
double token_nll(const float* logits, int vocab, int32_t target);

// progress(window, total_windows) is called after each window; kv_type: the session's KV cache.
Result<PerplexityResult> perplexity(const Transformer& t, const std::vector<int32_t>& ids, int ctx, int stride,
                                    const std::function<void(int, int)>& progress = {},
                                    KvType kv_type = KvType::kF16);

}  // namespace trapetum
