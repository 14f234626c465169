// Reference dequantization of the GGUF block formats.
#include "quant/ggml_blocks.h"

#include "core/half.h"

namespace trapetum {

void dequantize_q8_0(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / kQK; ++i, ++b) {
    const float d = fp16_to_float(b->d);
    for (int j = 0; j < kQK; ++j) *dst++ = d * float(b->qs[j]);
  }
}

void dequantize_q4_0(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_0*>(src);
  for (int64_t i = 0; i < n / kQK; ++i, ++b, dst += kQK) {
    const float d = fp16_to_float(b->d);
    for (int j = 0; j < kQK / 2; ++j) {
      dst[j] = d * float(int(b->qs[j] & 0x0f) - 8);
      dst[j + kQK / 2] = d * float(int(b->qs[j] >> 4) - 8);
    }
  }
}

void dequantize_q4_1(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_1*>(src);
  for (int64_t i = 0; i < n / kQK; ++i, ++b, dst += kQK) {
    const float d = fp16_to_float(b->d);
    const float m = fp16_to_float(b->m);
    for (int j = 0; j < kQK / 2; ++j) {
      dst[j] = d * float(b->qs[j] & 0x0f) + m;
      dst[j + kQK / 2] = d * float(b->qs[j] >> 4) + m;
    }
  }
}

namespace {
// Unpacks the j-th (scale, min) pair of a Q4_K super-block: 6 bits each, packed in 12 bytes.
void q4k_scale_min(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = uint8_t((q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4));
    *m = uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
  }
}
}  // namespace

void dequantize_q4_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ4_K*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i, ++b) {
    const float d = fp16_to_float(b->d);
    const float dmin = fp16_to_float(b->dmin);
    const uint8_t* q = b->qs;
    for (int j = 0; j < kQKK / 64; ++j, q += 32) {
      uint8_t sc, m;
      q4k_scale_min(2 * j, b->scales, &sc, &m);
      const float d1 = d * float(sc), m1 = dmin * float(m);
      q4k_scale_min(2 * j + 1, b->scales, &sc, &m);
      const float d2 = d * float(sc), m2 = dmin * float(m);
      for (int l = 0; l < 32; ++l) *dst++ = d1 * float(q[l] & 0x0f) - m1;
      for (int l = 0; l < 32; ++l) *dst++ = d2 * float(q[l] >> 4) - m2;
    }
  }
}

void dequantize_q6_k(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ6_K*>(src);
  for (int64_t i = 0; i < n / kQKK; ++i, ++b) {
    const float d = fp16_to_float(b->d);
    const uint8_t* ql = b->ql;
    const uint8_t* qh = b->qh;
    const int8_t* sc = b->scales;
    for (int half = 0; half < 2; ++half, dst += 128, ql += 64, qh += 32, sc += 8) {
      for (int l = 0; l < 32; ++l) {
        const int is = l / 16;
        const int q1 = int((ql[l] & 0x0f) | (((qh[l] >> 0) & 3) << 4)) - 32;
        const int q2 = int((ql[l + 32] & 0x0f) | (((qh[l] >> 2) & 3) << 4)) - 32;
        const int q3 = int((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
        const int q4 = int((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
        dst[l] = d * float(sc[is + 0]) * float(q1);
        dst[l + 32] = d * float(sc[is + 2]) * float(q2);
        dst[l + 64] = d * float(sc[is + 4]) * float(q3);
        dst[l + 96] = d * float(sc[is + 6]) * float(q4);
      }
    }
  }
}

}  // namespace trapetum
