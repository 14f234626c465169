// Model benchmark in the style of llama-bench: prompt processing (pp) and token generation
// (tg) speed over repetitions, and the weight bytes a decode step must read.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/result.h"
#include "model/model.h"
#include "kernels/kv_type.h"
#include "model/transformer.h"

namespace trapetum {

struct BenchOptions {
  int prompt_tokens = 512;  // pp: one prefill of this many tokens
  int gen_tokens = 128;     // tg: this many single-token decode steps after the prompt
  int reps = 3;
  uint64_t seed = 1;        // token ids are drawn uniformly from the vocabulary
  KvType kv_type = KvType::kF16;
  // Called around each tg repetition, outside its timing (energy meters).
  std::function<void()> tg_begin, tg_end;
};

struct Spread {
  double median = 0, min = 0, max = 0;
};
Spread spread_of(std::vector<double> v);

struct BenchResult {
  Spread pp_tok_s, tg_tok_s;  // over reps
  std::vector<double> pp_runs, tg_runs;
};

// Bytes of packed weights (outliers included) one decode step reads: every layer's
// matrices and the output head; the embedding contributes one row.
int64_t decode_weight_bytes(const Model& m);

Result<BenchResult> run_bench(const Transformer& t, const BenchOptions& o);

}  // namespace trapetum
