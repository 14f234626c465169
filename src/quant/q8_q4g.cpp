// Reference q8 and q4gG: round-to-nearest scalar quantization per group.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/half.h"
#include "quant/ggml_blocks.h"
#include "quant/lowbit.h"

namespace trapetum {
namespace {

// Copies group g of a row into buf (zero-padding past n); returns the group's length.
int64_t load_group(const float* src, int64_t n, int64_t g, int64_t group, float* buf) {
  const int64_t i0 = g * group, len = std::min(group, n - i0);
  std::memcpy(buf, src + i0, size_t(len) * sizeof(float));
  std::fill(buf + len, buf + group, 0.0f);
  return len;
}

}  // namespace

void quantize_q8(const float* src, void* dst, int64_t n, const float* /*importance*/) {
  auto* b = static_cast<BlockQ8_0*>(dst);
  float buf[kQK];
  for (int64_t g = 0; g * kQK < n; ++g, ++b) {
    load_group(src, n, g, kQK, buf);
    float amax = 0.0f;
    for (float v : buf) amax = std::max(amax, std::fabs(v));
    b->d = float_to_fp16(amax / 127.0f);
    const float d = fp16_to_float(b->d);
    const float inv = d > 0.0f ? 1.0f / d : 0.0f;
    for (int j = 0; j < kQK; ++j) b->qs[j] = int8_t(std::clamp(std::lrint(buf[j] * inv), -127L, 127L));
  }
}

void dequantize_q8(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i0 = 0; i0 < n; i0 += kQK, ++b) {
    const float d = fp16_to_float(b->d);
    const int64_t len = std::min<int64_t>(kQK, n - i0);
    for (int64_t j = 0; j < len; ++j) dst[i0 + j] = d * float(b->qs[j]);
  }
}

template <int G>
void quantize_q4g(const float* src, void* dst, int64_t n, const float* importance) {
  auto* p = static_cast<uint8_t*>(dst);
  float buf[G];
  for (int64_t g = 0; g * G < n; ++g, p += q4g_block_bytes(G)) {
    const int64_t len = load_group(src, n, g, G, buf);
    // The range covers the elements that count: zero importance marks values another
    // representation carries (sparse outliers), which must not widen the group's range.
    float lo = INFINITY, hi = -INFINITY;
    for (int64_t j = 0; j < len; ++j)
      if (!importance || importance[g * G + j] > 0.0f) lo = std::min(lo, buf[j]), hi = std::max(hi, buf[j]);
    if (lo > hi) {  // nothing counts: fall back to every element
      lo = hi = buf[0];
      for (int64_t j = 1; j < len; ++j) lo = std::min(lo, buf[j]), hi = std::max(hi, buf[j]);
    }
    const uint16_t dh = float_to_fp16((hi - lo) / 15.0f), mh = float_to_fp16(lo);
    std::memcpy(p, &dh, 2);
    std::memcpy(p + 2, &mh, 2);
    const float d = fp16_to_float(dh), m = fp16_to_float(mh);
    const float inv = d > 0.0f ? 1.0f / d : 0.0f;
    uint8_t* qs = p + 4;
    for (int j = 0; j < G / 2; ++j) {
      const long q0 = std::clamp(std::lrint((buf[j] - m) * inv), 0L, 15L);
      const long q1 = std::clamp(std::lrint((buf[j + G / 2] - m) * inv), 0L, 15L);
      qs[j] = uint8_t(q0 | (q1 << 4));
    }
  }
}

template <int G>
void dequantize_q4g(const void* src, float* dst, int64_t n) {
  const auto* p = static_cast<const uint8_t*>(src);
  float buf[G];
  for (int64_t i0 = 0; i0 < n; i0 += G, p += q4g_block_bytes(G)) {
    uint16_t dh, mh;
    std::memcpy(&dh, p, 2);
    std::memcpy(&mh, p + 2, 2);
    const float d = fp16_to_float(dh), m = fp16_to_float(mh);
    const uint8_t* qs = p + 4;
    for (int j = 0; j < G / 2; ++j) {
      buf[j] = d * float(qs[j] & 0x0f) + m;
      buf[j + G / 2] = d * float(qs[j] >> 4) + m;
    }
    std::memcpy(dst + i0, buf, size_t(std::min<int64_t>(G, n - i0)) * sizeof(float));
  }
}

template void quantize_q4g<32>(const float*, void*, int64_t, const float*);
template void quantize_q4g<64>(const float*, void*, int64_t, const float*);
template void quantize_q4g<128>(const float*, void*, int64_t, const float*);
template void dequantize_q4g<32>(const void*, float*, int64_t);
template void dequantize_q4g<64>(const void*, float*, int64_t);
template void dequantize_q4g<128>(const void*, float*, int64_t);

}  // namespace trapetum
