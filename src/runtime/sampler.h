// Sampler: picks the next token from logits with repetition penalty, top-k, temperature,
// top-p and min-p, using a seeded deterministic generator. Plain CPU code.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace trapetum {

struct SamplerParams {
  float temperature = 0.8f;    // 0 = greedy
  int top_k = 40;              // 0 = off
  float top_p = 0.95f;         // 1 = off
  float min_p = 0.05f;         // 0 = off
  float repeat_penalty = 1.0f; // 1 = off
  int repeat_last_n = 64;      // tokens of history the penalty looks at
  uint64_t seed = 0;
};

// Returns an error message for out-of-range parameters, or "" when valid.
std::string validate_sampler_params(const SamplerParams& p);

class Sampler {
 public:
  explicit Sampler(const SamplerParams& p);
  // history: tokens so far (prompt and generated), for the repetition penalty.
  int32_t sample(const float* logits, int vocab, const std::vector<int32_t>& history);
  const SamplerParams& params() const { return p_; }

 private:
  double uniform();  // [0, 1)

  SamplerParams p_;
  uint64_t state_[4];
  std::vector<float> work_;
  std::vector<int32_t> ids_;
};

int32_t argmax(const float* x, int n);

}  // namespace trapetum
