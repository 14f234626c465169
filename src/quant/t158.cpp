// Reference t158 and t158p: ternary weights with an fp16 scale per 128 elements (the least-
// squares optimum over BitNet b1.58-style thresholds), packed 4 or 5 codes per byte.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/half.h"
#include "quant/lowbit.h"

namespace trapetum {
namespace {

constexpr int64_t G = kT158Block;
constexpr float kTernary[4] = {-1.0f, 0.0f, 1.0f, 0.0f};  // value of each 2-bit code

// Nearest ternary value of x / s (ties to 0); 0 for non-finite x. half_s = s / 2 >= 0.
int8_t ternary(float x, double half_s) {
  if (!(std::fabs(x) > half_s) || !std::isfinite(x)) return 0;
  return x > 0 ? 1 : -1;
}

// Ternary values t (G of them, zero past len) and the fp16 scale of one group of len values,
// minimizing sum w (x - s t)^2. BitNet b1.58 thresholds |x| at half the absmean and refits s
// as the mean |x| of the nonzeros; any such threshold makes the nonzeros the k largest |x|
// for some k, with error sum w x^2 - (sum w |x|)^2 / sum w over them. Trying every k finds
// the least-squares optimum, which includes BitNet's choice and, for a group of {-a, 0, a},
// gives scale a exactly; Lloyd iterations from absmean instead stall on heavy tails.
uint16_t fit_group(const float* x, const float* importance, int64_t len, int8_t* t) {
  float w[G];
  double total = 0;
  for (int64_t j = 0; j < len; ++j) {
    const float v = importance ? importance[j] : 1.0f;
    w[j] = std::isfinite(x[j]) && v > 0 && std::isfinite(v) ? v : 0.0f;
    total += w[j];
  }
  if (!(total > 0))
    for (int64_t j = 0; j < len; ++j) w[j] = std::isfinite(x[j]) ? 1.0f : 0.0f;
  struct Mag {
    float a, w;  // |x| and its weight
  } m[G];
  int64_t count = 0;
  for (int64_t j = 0; j < len; ++j)
    if (w[j] > 0) m[count++] = {std::fabs(x[j]), w[j]};
  std::sort(m, m + count, [](const Mag& a, const Mag& b) { return a.a > b.a; });
  double best = 0, s = 0, sum_a = 0, sum_w = 0;
  for (int64_t k = 0; k < count; ++k) {
    sum_a += double(m[k].w) * m[k].a, sum_w += m[k].w;
    if (sum_a * sum_a / sum_w > best) best = sum_a * sum_a / sum_w, s = sum_a / sum_w;
  }
  std::fill(t, t + G, int8_t(0));
  if (!(s > 0)) return 0;
  const uint16_t h = float_to_fp16(float(std::min(s, 65504.0)));
  const double half_d = 0.5 * double(fp16_to_float(h));
  for (int64_t j = 0; j < len; ++j) t[j] = ternary(x[j], half_d);  // codes for the stored scale
  return h;
}

}  // namespace

void quantize_t158(const float* src, void* dst, int64_t n, const float* importance) {
  auto* b = static_cast<BlockT158*>(dst);
  int8_t t[G];
  for (int64_t i0 = 0; i0 < n; i0 += G, ++b) {
    b->d = fit_group(src + i0, importance ? importance + i0 : nullptr, std::min(G, n - i0), t);
    for (int64_t j = 0; j < G / 4; ++j) {
      uint8_t byte = 0;
      for (int k = 0; k < 4; ++k) byte |= uint8_t((t[j + k * G / 4] + 1) << (2 * k));
      b->qs[j] = byte;
    }
  }
}

void dequantize_t158(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockT158*>(src);
  float buf[G];
  for (int64_t i0 = 0; i0 < n; i0 += G, ++b) {
    const float d = fp16_to_float(b->d);
    for (int64_t j = 0; j < G / 4; ++j)
      for (int k = 0; k < 4; ++k) buf[j + k * G / 4] = d * kTernary[(b->qs[j] >> (2 * k)) & 3];
    std::memcpy(dst + i0, buf, size_t(std::min(G, n - i0)) * sizeof(float));
  }
}

void quantize_t158p(const float* src, void* dst, int64_t n, const float* importance) {
  auto* b = static_cast<BlockT158P*>(dst);
  int8_t t[G];
  for (int64_t i0 = 0; i0 < n; i0 += G, ++b) {
    b->d = fit_group(src + i0, importance ? importance + i0 : nullptr, std::min(G, n - i0), t);
    for (int64_t j = 0; j < kT158PBytes; ++j) {
      int byte = 0;
      for (int64_t k = 4; k >= 0; --k) {
        const int64_t e = j + k * kT158PBytes;
        byte = byte * 3 + (e < G ? t[e] + 1 : 1);
      }
      b->qs[j] = uint8_t(byte);
    }
  }
}

void dequantize_t158p(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockT158P*>(src);
  float buf[kT158PBytes * 5];  // 130: the last two trits are padding
  for (int64_t i0 = 0; i0 < n; i0 += G, ++b) {
    const float d = fp16_to_float(b->d);
    for (int64_t j = 0; j < kT158PBytes; ++j) {
      int v = b->qs[j];
      for (int64_t k = 0; k < 5; ++k, v /= 3) buf[j + k * kT158PBytes] = d * kTernary[v % 3];
    }
    std::memcpy(dst + i0, buf, size_t(std::min(G, n - i0)) * sizeof(float));
  }
}

}  // namespace trapetum
