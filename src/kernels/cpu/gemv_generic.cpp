// Portable GEMV kernels: the float bodies compiled for the baseline ISA, and plain-loop int8
// kernels that define the int8 arithmetic every SIMD version must reproduce.
#include "core/half.h"
#include "kernels/cpu/gemv_float_body.h"

namespace trapetum::cpu {
namespace {

struct Generic : ConvertVector {
  TRAPETUM_BODY static float h2f(uint16_t h) { return fp16_to_float(h); }
  TRAPETUM_BODY static F16x h2f16(const uint16_t* p) {
    F16x r;
    for (int i = 0; i < 16; ++i) r[i] = fp16_to_float(p[i]);
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

}  // namespace

void fill_gemv_generic(GemvTable* t) {
  fill_float_kernels<Generic>(t);
  t->int8[3] = i8_q8;             // Q8_0
  t->int8[4] = i8_q4_0;           // Q4_0
  t->int8[5] = i8_q4g<32>;        // Q4_1
  t->int8[8] = i8_q8;             // q8
  t->int8[9] = i8_q4g<32>;        // q4g32
  t->int8[10] = i8_q4g<64>;       // q4g64
  t->int8[11] = i8_q4g<128>;      // q4g128
  t->int8[14] = i8_t158;          // t158
}

}  // namespace trapetum::cpu
