// Sampler: penalties, top-k, temperature, softmax, top-p, min-p, then a draw.
#include "runtime/sampler.h"

#include <algorithm>
#include <cstddef>
#include <cmath>
#include <numeric>
#include <string>
#include <unordered_set>

namespace trapetum {
namespace {

uint64_t splitmix64(uint64_t* x) {
  uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

std::string validate_sampler_params(const SamplerParams& p) {
  if (!(p.temperature >= 0) || !std::isfinite(p.temperature)) return "temperature must be a finite number >= 0";
  if (p.top_k < 0) return "top-k must be >= 0";
  if (!(p.top_p > 0 && p.top_p <= 1)) return "top-p must be in (0, 1]";
  if (!(p.min_p >= 0 && p.min_p < 1)) return "min-p must be in [0, 1)";
  if (!(p.repeat_penalty > 0) || !std::isfinite(p.repeat_penalty)) return "repeat penalty must be a finite number > 0";
  if (p.repeat_last_n < 0) return "repeat-last-n must be >= 0";
  return "";
}

int32_t argmax(const float* x, int n) {
  int32_t best = 0;
  for (int i = 1; i < n; ++i)
    if (x[i] > x[best]) best = i;
  return best;
}

Sampler::Sampler(const SamplerParams& p) : p_(p) {
  uint64_t s = p.seed;
  for (auto& w : state_) w = splitmix64(&s);
}

double Sampler::uniform() {
  // xoshiro256**: the same sequence on every platform for a given seed.
  const uint64_t result = rotl(state_[1] * 5, 7) * 9;
  const uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = rotl(state_[3], 45);
  return double(result >> 11) * 0x1.0p-53;
}

int32_t Sampler::sample(const float* logits, int vocab, const std::vector<int32_t>& history) {
  work_.assign(logits, logits + vocab);
  if (p_.repeat_penalty != 1.0f && p_.repeat_last_n > 0) {
    std::unordered_set<int32_t> seen;
    const size_t from = history.size() > size_t(p_.repeat_last_n) ? history.size() - size_t(p_.repeat_last_n) : 0;
    for (size_t i = from; i < history.size(); ++i) seen.insert(history[i]);
    for (int32_t id : seen) {
      if (id < 0 || id >= vocab) continue;
      float& l = work_[size_t(id)];
      l = l > 0 ? l / p_.repeat_penalty : l * p_.repeat_penalty;
    }
  }
  if (p_.temperature == 0.0f) return argmax(work_.data(), vocab);

  // Candidates sorted by logit, descending; ties broken by id for determinism.
  ids_.resize(size_t(vocab));
  std::iota(ids_.begin(), ids_.end(), 0);
  size_t k = p_.top_k > 0 ? std::min<size_t>(size_t(p_.top_k), size_t(vocab)) : size_t(vocab);
  auto by_logit = [&](int32_t a, int32_t b) {
    return work_[size_t(a)] > work_[size_t(b)] || (work_[size_t(a)] == work_[size_t(b)] && a < b);
  };
  std::partial_sort(ids_.begin(), ids_.begin() + std::ptrdiff_t(k), ids_.end(), by_logit);
  ids_.resize(k);

  std::vector<double> prob(k);
  const double mx = work_[size_t(ids_[0])];
  double sum = 0;
  for (size_t i = 0; i < k; ++i) sum += prob[i] = std::exp((work_[size_t(ids_[i])] - mx) / p_.temperature);
  for (auto& v : prob) v /= sum;

  size_t keep = k;
  if (p_.top_p < 1.0f) {
    double cum = 0;
    for (size_t i = 0; i < k; ++i) {
      cum += prob[i];
      if (cum >= p_.top_p) {
        keep = i + 1;
        break;
      }
    }
  }
  if (p_.min_p > 0.0f) {
    const double floor = prob[0] * p_.min_p;
    size_t i = 1;
    while (i < keep && prob[i] >= floor) ++i;
    keep = i;
  }
  double total = 0;
  for (size_t i = 0; i < keep; ++i) total += prob[i];
  double r = uniform() * total;
  for (size_t i = 0; i < keep; ++i) {
    r -= prob[i];
    if (r < 0) return ids_[i];
  }
  return ids_[keep - 1];
}

}  // namespace trapetum
