// Perplexity under the HuggingFace sliding-window protocol: windows of at most ctx tokens
// start every stride tokens; each scores only the tokens no earlier window scored, never its
// first token; PPL = exp(mean NLL).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "model/transformer.h"

namespace trapetum {

struct PerplexityResult {
  double ppl = 0;
  double nll_sum = 0;
  int64_t tokens_scored = 0;
  int windows = 0;
  double seconds = 0;
};

// progress(window, total_windows) is called after each window.
Result<PerplexityResult> perplexity(const Transformer& t, const std::vector<int32_t>& ids, int ctx, int stride,
                                    const std::function<void(int, int)>& progress = {});

}  // namespace trapetum
