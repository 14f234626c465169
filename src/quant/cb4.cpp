// Reference cb4 and cb4s: 4-bit codes into a per-row codebook of 16 fp16 centroids fitted by
// weighted 1-D k-means (quant/kmeans1d.h); cb4s adds a log-scale byte per 64 elements.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "core/half.h"
#include "quant/kmeans1d.h"
#include "quant/lowbit.h"

namespace trapetum {
namespace {

constexpr float kFp16Max = 65504.0f;
constexpr int kScaleSearch = 2;  // cb4s tries scale exponents within this distance of the fit

// Per-element weights of squared error: importance where given (anything not > 0 or not
// finite counts as 0) and 0 for non-finite values; a group of `group` elements left with no
// weight counts each of its finite elements as 1.
std::vector<float> element_weights(const float* src, const float* importance, int64_t n, int64_t group) {
  std::vector<float> w(size_t(n), 0.0f);
  for (int64_t g0 = 0; g0 < n; g0 += group) {
    const int64_t g1 = std::min(n, g0 + group);
    double total = 0;
    for (int64_t i = g0; i < g1; ++i) {
      const float v = importance ? importance[i] : 1.0f;
      if (std::isfinite(src[i]) && v > 0 && std::isfinite(v)) w[i] = v, total += v;
    }
    if (!(total > 0))
      for (int64_t i = g0; i < g1; ++i) w[i] = std::isfinite(src[i]) ? 1.0f : 0.0f;
  }
  return w;
}

// Rounds centroids to fp16 (clamped to its range), writes them ascending to the row header
// and returns the stored codebook, so codes are chosen for the values a reader will see. The
// header may be unaligned (cb4s rows are an odd number of bytes long).
Codebook16 store_codebook(const float* centroids, void* header) {
  float c[16];
  for (int i = 0; i < 16; ++i) c[i] = fp16_to_float(float_to_fp16(std::clamp(centroids[i], -kFp16Max, kFp16Max)));
  std::sort(c, c + 16);
  uint16_t h[16];
  for (int i = 0; i < 16; ++i) h[i] = float_to_fp16(c[i]);
  std::memcpy(header, h, sizeof(h));
  return Codebook16(c);
}

void load_codebook(const void* src, float* c) {
  uint16_t h[16];
  std::memcpy(h, src, sizeof(h));
  for (int i = 0; i < 16; ++i) c[i] = fp16_to_float(h[i]);
}

// Packs codes of one block of `block` elements: byte j holds code j (low) and j + block/2.
void pack_nibbles(const uint8_t* codes, int64_t block, uint8_t* out) {
  for (int64_t j = 0; j < block / 2; ++j) out[j] = uint8_t(codes[j] | (codes[j + block / 2] << 4));
}

}  // namespace

void quantize_cb4(const float* src, void* dst, int64_t n, const float* importance) {
  if (n <= 0) return;
  const std::vector<float> w = element_weights(src, importance, n, n);
  std::vector<WeightedValue> points;
  points.reserve(size_t(n));
  for (int64_t i = 0; i < n; ++i)
    if (w[i] > 0) points.push_back({src[i], w[i]});
  float c[16];
  fit_centroids_1d(points, 16, c);
  const Codebook16 book = store_codebook(c, dst);
  auto* blocks = reinterpret_cast<BlockCb4*>(static_cast<uint8_t*>(dst) + kCb4HeaderBytes);
  uint8_t codes[kCb4Block];
  for (int64_t i0 = 0; i0 < n; i0 += kCb4Block) {
    for (int64_t j = 0; j < kCb4Block; ++j) codes[j] = i0 + j < n ? uint8_t(book.nearest(src[i0 + j])) : 0;
    pack_nibbles(codes, kCb4Block, blocks[i0 / kCb4Block].qs);
  }
}

void dequantize_cb4(const void* src, float* dst, int64_t n) {
  float c[16], buf[kCb4Block];
  load_codebook(src, c);
  const auto* blocks = reinterpret_cast<const BlockCb4*>(static_cast<const uint8_t*>(src) + kCb4HeaderBytes);
  for (int64_t i0 = 0; i0 < n; i0 += kCb4Block) {
    const uint8_t* qs = blocks[i0 / kCb4Block].qs;
    for (int64_t j = 0; j < kCb4Block / 2; ++j) {
      buf[j] = c[qs[j] & 0x0f];
      buf[j + kCb4Block / 2] = c[qs[j] >> 4];
    }
    std::memcpy(dst + i0, buf, size_t(std::min(kCb4Block, n - i0)) * sizeof(float));
  }
}

// cb4s fit: scales start at each group's absmax; the codebook is fitted to w / s with
// weights s^2 (so error counts in original units); each scale is refitted by least squares
// given its codes; finally each group's stored exponent is picked by trying those near the
// fit and keeping the one with the least weighted error.
void quantize_cb4s(const float* src, void* dst, int64_t n, const float* importance) {
  constexpr int64_t G = kCb4sBlock;
  if (n <= 0) return;
  const std::vector<float> w = element_weights(src, importance, n, G);
  const int64_t groups = (n + G - 1) / G;
  std::vector<float> s(size_t(groups), 0.0f);  // (groups): continuous scale of each group
  float s_max = 0.0f;
  for (int64_t g = 0; g < groups; ++g) {
    for (int64_t i = g * G; i < std::min(n, (g + 1) * G); ++i)
      if (std::isfinite(src[i])) s[g] = std::max(s[g], std::fabs(src[i]));
    s_max = std::max(s_max, s[g]);
  }
  std::vector<WeightedValue> points;
  points.reserve(size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    const float sg = s[i / G];
    const float weight = sg > 0 ? w[i] * (sg / s_max) * (sg / s_max) : 0.0f;  // in (0, w]: no overflow
    if (weight > 0) points.push_back({src[i] / sg, weight});
  }
  float unit[16];  // the codebook for w / s
  fit_centroids_1d(points, 16, unit);
  const Codebook16 unit_book(unit);
  for (int64_t g = 0; g < groups; ++g) {
    for (int round = 0; round < 2 && s[g] > 0; ++round) {
      double num = 0, den = 0;
      const float inv = 1.0f / s[g];
      for (int64_t i = g * G; i < std::min(n, (g + 1) * G); ++i) {
        if (w[i] == 0) continue;
        const double c = unit[unit_book.nearest(src[i] * inv)];
        num += double(w[i]) * src[i] * c, den += double(w[i]) * c * c;
      }
      const double fit = den > 0 ? num / den : 0.0;
      if (fit > 0 && fit <= std::numeric_limits<float>::max()) s[g] = float(fit);
    }
  }
  s_max = *std::max_element(s.begin(), s.end());
  float c[16];
  for (int i = 0; i < 16; ++i) c[i] = unit[i] * s_max;
  const Codebook16 book = store_codebook(c, dst);
  auto* blocks = reinterpret_cast<BlockCb4s*>(static_cast<uint8_t*>(dst) + kCb4HeaderBytes);
  uint8_t codes[G], best_codes[G];
  for (int64_t g = 0; g < groups; ++g) {
    const int64_t i0 = g * G, len = std::min(G, n - i0);
    BlockCb4s& b = blocks[g];
    b.e = 255;
    std::fill(best_codes, best_codes + G, 0);
    double best = 0;
    for (int64_t j = 0; j < len; ++j)
      if (w[i0 + j] > 0) best += double(w[i0 + j]) * src[i0 + j] * src[i0 + j];
    if (s[g] > 0 && s_max > 0) {
      const double e_fit = -16.0 * std::log2(double(s[g]) / s_max);
      const int e0 = int(std::lround(std::clamp(e_fit, 0.0, 254.0)));
      for (int e = std::max(0, e0 - kScaleSearch); e <= std::min(254, e0 + kScaleSearch); ++e) {
        const float m = cb4s_scale(uint8_t(e)), inv = 1.0f / m;
        double err = 0;
        for (int64_t j = 0; j < len; ++j) {
          codes[j] = uint8_t(book.nearest(src[i0 + j] * inv));
          if (w[i0 + j] == 0) continue;
          const double d = double(src[i0 + j]) - double(book.c[codes[j]] * m);
          err += double(w[i0 + j]) * d * d;
        }
        if (err < best) best = err, b.e = uint8_t(e), std::copy(codes, codes + len, best_codes);
      }
    }
    pack_nibbles(best_codes, G, b.qs);
  }
}

void dequantize_cb4s(const void* src, float* dst, int64_t n) {
  float c[16], buf[kCb4sBlock];
  load_codebook(src, c);
  const auto* blocks = reinterpret_cast<const BlockCb4s*>(static_cast<const uint8_t*>(src) + kCb4HeaderBytes);
  for (int64_t i0 = 0; i0 < n; i0 += kCb4sBlock) {
    const BlockCb4s& b = blocks[i0 / kCb4sBlock];
    const float m = cb4s_scale(b.e);
    for (int64_t j = 0; j < kCb4sBlock / 2; ++j) {
      buf[j] = c[b.qs[j] & 0x0f] * m;
      buf[j + kCb4sBlock / 2] = c[b.qs[j] >> 4] * m;
    }
    std::memcpy(dst + i0, buf, size_t(std::min(kCb4sBlock, n - i0)) * sizeof(float));
  }
}

}  // namespace trapetum
