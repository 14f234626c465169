// Evaluation of a model (typically quantized) against a reference sharing its tokenizer:
// per-position KL(ref || test), top-1 agreement and logit error, perplexity of both under
// the sliding-window protocol, and greedy-continuation agreement.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "model/model.h"
#include "model/transformer.h"
#include "runtime/perplexity.h"

namespace trapetum {

// The q-quantile (0 <= q <= 1) of values, linearly interpolated between order statistics
// (numpy's default): sorted[floor(h)] + frac(h) * (next - that), h = q * (n - 1); 0 when empty.
double quantile(std::vector<double> values, double q);

// Accumulates per-position statistics of a test distribution against a reference, both given
// as logits. Log-softmax and KL are computed in double.
class DivergenceStats {
 public:
  void add(const float* ref_logits, const float* test_logits, int vocab);

  int64_t count() const { return int64_t(kl_.size()); }
  double kl_mean() const;
  double kl_max() const;
  double kl_quantile(double q) const { return quantile(kl_, q); }  // e.g. 0.99 for p99
  double top1() const;  // fraction of positions whose argmax agrees
  double max_abs_dlogit() const { return max_abs_dlogit_; }
  double mean_abs_dlogit() const;  // over every (position, vocab entry)
  const std::vector<double>& kl_values() const { return kl_; }

 private:
  std::vector<double> kl_;  // (positions) KL(ref || test) of each position
  int64_t top1_agree_ = 0;
  double max_abs_dlogit_ = 0;
  double sum_abs_dlogit_ = 0;
  int64_t n_logits_ = 0;
};

// KL(P || Q) of softmax(ref) and softmax(test), in double.
double kl_divergence(const float* ref_logits, const float* test_logits, int vocab);

struct TextComparison {
  DivergenceStats stats;
  PerplexityResult ref, test;  // the same figures `perplexity` gives for each model
  double seconds = 0;
};

// Runs both models window by window over ids (the perplexity protocol) and compares their
// next-token distributions at every scored position. Holds one window's reference logits
// (scored positions x vocab floats). progress(window, total) after each window. Both models'
// sessions use kv_type.
Result<TextComparison> compare_on_text(const Transformer& ref, const Transformer& test, const std::vector<int32_t>& ids,
                                       int ctx, int stride, const std::function<void(int, int)>& progress = {},
                                       KvType kv_type = KvType::kF16);

// n greedy (argmax) tokens after prompt, with no stop at end-of-generation tokens.
Result<std::vector<int32_t>> greedy_tokens(const Transformer& t, const std::vector<int32_t>& prompt, int n,
                                           KvType kv_type = KvType::kF16);

struct GreedyMatch {
  int match_prefix = 0;  // leading tokens identical before the first divergence
  int match_total = 0;   // positions holding the same token
  int n = 0;             // tokens compared
};
GreedyMatch match_greedy(const std::vector<int32_t>& ref, const std::vector<int32_t>& test);

// Errors unless both models have the same vocabulary size (config and tokenizer).
Status check_same_vocab(const Model& ref, const Model& test);
// The ids `trapetum perplexity` scores for a text: BOS when the tokenizer adds one, then the
// text with no special tokens added.
std::vector<int32_t> document_ids(const Tokenizer& tok, const std::string& text);
// Errors unless both tokenizers gave the same ids for the text that what names (a file, a
// prompt); the message shows the first difference.
Status check_same_ids(const Model& ref, const Model& test, const std::vector<int32_t>& ref_ids,
                      const std::vector<int32_t>& test_ids, const std::string& what);

// Generic English prompts (story openings, facts, a chat turn) for greedy agreement.
std::vector<std::string> default_greedy_prompts();

}  // namespace trapetum
