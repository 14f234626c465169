// Portable GEMV kernels: the float bodies compiled for the baseline ISA, and plain-loop int8
// kernels that define the int8 arithmetic every SIMD version must reproduce.
#include <algorithm>
#include <cmath>

#include "core/half.h"
#include "kernels/cpu/gemv_float_body.h"

namespace trapetum::cpu {
namespace {

struct Generic : ConvertVector {
  TRAPETUM_BODY static float h2f(uint16_t h) { return fp16_to_float(h); }
  TRAPETUM_BODY static F16x h2f16(const uint16_t* p) {
    F16x r;
    for (int i = 0; i < 16; ++i) {  // p may be odd-aligned (cb4s rows are 32 + 33n bytes)
      uint16_t h;
      std::memcpy(&h, reinterpret_cast<const uint8_t*>(p) + 2 * i, 2);
      r[i] = fp16_to_float(h);
    }
    return r;
  }
  TRAPETUM_BODY static F16x lookup(F16x table, I16x idx) { return __builtin_shuffle(table, idx); }
};

// sum over 32 elements of u[i] * s[i]; u is produced by code(i) for the block's element i.
template <class Code>
int32_t idot32(const int8_t* s, Code code) {
  int32_t r = 0;
  for (int i = 0; i < 32; ++i) r += code(i) * int32_t(s[i]);
  return r;
}

float i8_q8(const uint8_t* row, const GemvActs& a, int64_t k) {
  float r = 0;
  for (int64_t b = 0; b < (k + kQK - 1) / kQK; ++b) {
    const auto* blk = reinterpret_cast<const BlockQ8_0*>(row) + b;
    r += fp16_to_float(blk->d) * a.qd[b] * float(idot32(a.q + b * 32, [&](int i) { return int32_t(blk->qs[i]); }));
  }
  return r;
}

float i8_q4_0(const uint8_t* row, const GemvActs& a, int64_t k) {
  float r = 0;
  for (int64_t b = 0; b < k / kQK; ++b) {
    const auto* blk = reinterpret_cast<const BlockQ4_0*>(row) + b;
    const int32_t s = idot32(a.q + b * 32, [&](int i) { return int32_t(i < 16 ? blk->qs[i] & 15 : blk->qs[i - 16] >> 4); });
    r += fp16_to_float(blk->d) * (a.qd[b] * float(s) - 8.0f * a.qdsum[b]);
  }
  return r;
}

template <int G>
float i8_q4g(const uint8_t* row, const GemvActs& a, int64_t k) {
  float r = 0;
  for (int64_t b = 0; b < (k + G - 1) / G; ++b) {
    const uint8_t* blk = row + b * (4 + G / 2);
    const uint8_t* qs = blk + 4;
    float dot = 0, off = 0;
    for (int c = 0; c < G / 32; ++c) {
      const int64_t ab = b * (G / 32) + c;
      // Element e of the block is byte e's low nibble for e < G/2, else byte e - G/2's high.
      const int32_t s = idot32(a.q + ab * 32, [&](int i) {
        const int e = 32 * c + i;
        return int32_t(e < G / 2 ? qs[e] & 15 : qs[e - G / 2] >> 4);
      });
      dot += a.qd[ab] * float(s);
      off += a.qdsum[ab];
    }
    uint16_t d, m;
    std::memcpy(&d, blk, 2);
    std::memcpy(&m, blk + 2, 2);
    r += fp16_to_float(d) * dot + fp16_to_float(m) * off;
  }
  return r;
}

float i8_t158(const uint8_t* row, const GemvActs& a, int64_t k) {
  float r = 0;
  for (int64_t b = 0; b < (k + kT158Block - 1) / kT158Block; ++b) {
    const auto* blk = reinterpret_cast<const BlockT158*>(row) + b;
    float dot = 0;
    for (int s = 0; s < 4; ++s) {
      const int64_t ab = b * 4 + s;
      const int32_t t = idot32(a.q + ab * 32, [&](int i) {
        const int c = (blk->qs[i] >> (2 * s)) & 3;
        return int32_t(c == 3 ? 1 : c);
      });
      dot += a.qd[ab] * float(t) - a.qdsum[ab];
    }
    r += fp16_to_float(blk->d) * dot;
  }
  return r;
}

float i8_cb4(const uint8_t* row, const GemvActs& a, int64_t k) {
  int8_t c8[16];
  const float unit = cb4_int8_codebook(row, c8);
  const uint8_t* q = row + kCb4HeaderBytes;
  float r = 0;
  for (int64_t b = 0; b < (k + kCb4Block - 1) / kCb4Block; ++b, q += sizeof(BlockCb4)) {
    const int32_t s = idot32(a.q + b * 32, [&](int i) { return int32_t(c8[i < 16 ? q[i] & 15 : q[i - 16] >> 4]); });
    r += a.qd[b] * float(s);
  }
  return unit * r;
}

float i8_cb4s(const uint8_t* row, const GemvActs& a, int64_t k) {
  int8_t c8[16];
  const float unit = cb4_int8_codebook(row, c8);
  const uint8_t* blk = row + kCb4HeaderBytes;
  float r = 0;
  for (int64_t b = 0; b < (k + kCb4sBlock - 1) / kCb4sBlock; ++b, blk += sizeof(BlockCb4s)) {
    const uint8_t* q = blk + 1;  // byte j: element j low, element j + 32 high
    const int32_t s0 = idot32(a.q + b * 64, [&](int i) { return int32_t(c8[q[i] & 15]); });
    const int32_t s1 = idot32(a.q + b * 64 + 32, [&](int i) { return int32_t(c8[q[i] >> 4]); });
    r += cb4s_group_scale(blk[0]) * (a.qd[2 * b] * float(s0) + a.qd[2 * b + 1] * float(s1));
  }
  return unit * r;
}

}  // namespace

float cb4_int8_codebook(const uint8_t* row, int8_t c8[16]) {
  float c[16], s = 0;
  for (int i = 0; i < 16; ++i) {
    uint16_t h;
    std::memcpy(&h, row + 2 * i, 2);
    c[i] = fp16_to_float(h);
    s = std::max(s, std::fabs(c[i]));
  }
  const float inv = s > 0 ? 127.0f / s : 0.0f;
  for (int i = 0; i < 16; ++i) c8[i] = int8_t(std::nearbyint(c[i] * inv));
  return s / 127.0f;
}

void fill_gemv_generic(GemvTable* t) {
  fill_float_kernels<Generic>(t);
  t->int8[3] = i8_q8;             // Q8_0
  t->int8[4] = i8_q4_0;           // Q4_0
  t->int8[5] = i8_q4g<32>;        // Q4_1
  t->int8[8] = i8_q8;             // q8
  t->int8[9] = i8_q4g<32>;        // q4g32
  t->int8[10] = i8_q4g<64>;       // q4g64
  t->int8[11] = i8_q4g<128>;      // q4g128
  t->int8[12] = i8_cb4;           // cb4
  t->int8[13] = i8_cb4s;          // cb4s
  t->int8[14] = i8_t158;          // t158
}

}  // namespace trapetum::cpu
