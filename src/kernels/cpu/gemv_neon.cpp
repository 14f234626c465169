// AArch64 NEON GEMV kernels: the float bodies compiled for NEON (the 16-lane vectors become
// four q registers) and int8 kernels on sdot (vdotq_s32) that reproduce gemv_generic.cpp's
// integer arithmetic. Built with +dotprod+fp16; called only when the CPU reports dotprod.
#if defined(__aarch64__)
#include <arm_neon.h>

#include "kernels/cpu/gemv_float_body.h"

namespace trapetum::cpu {
namespace {

TRAPETUM_BODY float half(const uint8_t* p) {
  __fp16 f;
  std::memcpy(&f, p, 2);
  return float(f);
}

struct Neon : ConvertVector {
  // Widening by uxtl/sxtl and ucvtf/scvtf per q register (GCC 12 converts 64-byte vectors lane
  // by lane on AArch64).
  static F16x f4(float32x4_t a, float32x4_t b, float32x4_t c, float32x4_t d) {
    const float32x4_t r[4] = {a, b, c, d};
    F16x o;
    std::memcpy(&o, r, sizeof(o));
    return o;
  }
  static I16x u8i(U8x16 v) {
    const uint16x8_t lo = vmovl_u8(vget_low_u8(uint8x16_t(v))), hi = vmovl_high_u8(uint8x16_t(v));
    const uint32x4_t r[4] = {vmovl_u16(vget_low_u16(lo)), vmovl_high_u16(lo), vmovl_u16(vget_low_u16(hi)),
                             vmovl_high_u16(hi)};
    I16x o;
    std::memcpy(&o, r, sizeof(o));
    return o;
  }
  static F16x u16x8f(uint16x8_t lo, uint16x8_t hi) {
    return f4(vcvtq_f32_u32(vmovl_u16(vget_low_u16(lo))), vcvtq_f32_u32(vmovl_high_u16(lo)),
              vcvtq_f32_u32(vmovl_u16(vget_low_u16(hi))), vcvtq_f32_u32(vmovl_high_u16(hi)));
  }
  static F16x u8f(U8x16 v) { return u16x8f(vmovl_u8(vget_low_u8(uint8x16_t(v))), vmovl_high_u8(uint8x16_t(v))); }
  static F16x s8f(S8x16 v) {
    const int16x8_t lo = vmovl_s8(vget_low_s8(int8x16_t(v))), hi = vmovl_high_s8(int8x16_t(v));
    return f4(vcvtq_f32_s32(vmovl_s16(vget_low_s16(lo))), vcvtq_f32_s32(vmovl_high_s16(lo)),
              vcvtq_f32_s32(vmovl_s16(vget_low_s16(hi))), vcvtq_f32_s32(vmovl_high_s16(hi)));
  }
  static F16x u16f(U16x16 v) {
    uint16x8_t h[2];
    std::memcpy(h, &v, sizeof(h));
    return u16x8f(h[0], h[1]);
  }
  static float h2f(uint16_t h) { return half(reinterpret_cast<const uint8_t*>(&h)); }
  static F16x h2f16(const uint16_t* p) {
    F16x r;
    for (int i = 0; i < 16; i += 4) {
      const float32x4_t v = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p + i)));
      std::memcpy(reinterpret_cast<float*>(&r) + i, &v, 16);
    }
    return r;
  }
  // Four 64-byte table lookups (tbl), lane i gathering bytes 4 idx[i] + 0..3 of the table.
  // Why: GCC 12 lowers a variable __builtin_shuffle of 16 floats to 16 scalar loads here.
  static F16x lookup(F16x table, I16x idx) {
    float32x4_t t[4], r[4];
    int32x4_t i[4];
    std::memcpy(t, &table, sizeof(t));
    std::memcpy(i, &idx, sizeof(i));
    const uint8x16x4_t tb = {{vreinterpretq_u8_f32(t[0]), vreinterpretq_u8_f32(t[1]), vreinterpretq_u8_f32(t[2]),
                              vreinterpretq_u8_f32(t[3])}};
    // Byte indices 4 idx + 0..3 in each 32-bit lane (idx < 16, so no carries between bytes).
    const uint32x4_t four = vdupq_n_u32(0x04040404), bytes = vdupq_n_u32(0x03020100);
#pragma GCC unroll 4
    for (int q = 0; q < 4; ++q) {
      const uint32x4_t ix = vmlaq_u32(bytes, vreinterpretq_u32_s32(i[q]), four);
      r[q] = vreinterpretq_f32_u8(vqtbl4q_u8(tb, vreinterpretq_u8_u32(ix)));
    }
    F16x out;
    std::memcpy(&out, r, sizeof(out));
    return out;
  }
};

// ---- int8 activations: each 32-element block's products are summed exactly by two sdot into
// four int32 lanes, which are scaled per block in float (gemv_generic.cpp scales the lanes'
// total, the same integer; only the float rounding differs).

// The four int32 lane sums of w * x over one activation block (w: 32 values in two halves).
TRAPETUM_BODY int32x4_t dot32(int8x16_t w0, int8x16_t w1, const int8_t* x) {
  return vdotq_s32(vdotq_s32(vdupq_n_s32(0), w0, vld1q_s8(x)), w1, vld1q_s8(x + 16));
}
// acc += float(lane sums) * scale.
TRAPETUM_BODY float32x4_t scaled(float32x4_t acc, int32x4_t s, float scale) {
  return vfmaq_n_f32(acc, vcvtq_f32_s32(s), scale);
}
// Nibbles (0..15) as signed bytes for sdot.
TRAPETUM_BODY int8x16_t lo4(uint8x16_t v) { return vreinterpretq_s8_u8(vandq_u8(v, vdupq_n_u8(15))); }
TRAPETUM_BODY int8x16_t hi4(uint8x16_t v) { return vreinterpretq_s8_u8(vshrq_n_u8(v, 4)); }

// Two accumulators over blocks, as over_blocks in the float body.
template <class F>
TRAPETUM_BODY float over_blocks4(int64_t nb, F&& f) {
  float32x4_t acc0 = vdupq_n_f32(0), acc1 = vdupq_n_f32(0);
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    f(b, acc0);
    f(b + 1, acc1);
  }
  if (b < nb) f(b, acc0);
  return vaddvq_f32(vaddq_f32(acc0, acc1));
}

// q8 / Q8_0: signed weights times signed activations.
float i8_q8(const uint8_t* row, const GemvActs& a, int64_t k) {
  return over_blocks4((k + kQK - 1) / kQK, [&](int64_t b, float32x4_t& acc) {
    const uint8_t* blk = row + b * int64_t(sizeof(BlockQ8_0));
    const int8_t* w = reinterpret_cast<const int8_t*>(blk + 2);
    acc = scaled(acc, dot32(vld1q_s8(w), vld1q_s8(w + 16), a.q + b * kQK), half(blk) * a.qd[b]);
  });
}

// Q4_0: sum d * q * x minus 8 d * sum x, the latter from the activation block sums.
float i8_q4_0(const uint8_t* row, const GemvActs& a, int64_t k) {
  float off = 0;
  const float dot = over_blocks4(k / kQK, [&](int64_t b, float32x4_t& acc) {
    const uint8_t* blk = row + b * int64_t(sizeof(BlockQ4_0));
    const float d = half(blk);
    const uint8x16_t v = vld1q_u8(blk + 2);
    acc = scaled(acc, dot32(lo4(v), hi4(v), a.q + b * kQK), d * a.qd[b]);
    off += d * a.qdsum[b];
  });
  return dot - 8.0f * off;
}

// q4gG / Q4_1: byte j holds elements j and j + G/2, so the low nibbles of 32 bytes are one
// activation block and their high nibbles the block G/64 further on (G = 32: as Q4_0).
template <int G>
float i8_q4g(const uint8_t* row, const GemvActs& a, int64_t k) {
  float off = 0;
  const float dot = over_blocks4((k + G - 1) / G, [&](int64_t b, float32x4_t& acc) {
    const uint8_t* blk = row + b * (4 + G / 2);
    const int64_t a0 = b * (G / 32);
    const float d = half(blk), m = half(blk + 2);
    if constexpr (G == 32) {
      const uint8x16_t v = vld1q_u8(blk + 4);
      acc = scaled(acc, dot32(lo4(v), hi4(v), a.q + a0 * 32), d * a.qd[a0]);
      off += m * a.qdsum[a0];
    } else {
#pragma GCC unroll 2
      for (int c = 0; c < G / 64; ++c) {
        const uint8x16_t v0 = vld1q_u8(blk + 4 + 32 * c), v1 = vld1q_u8(blk + 20 + 32 * c);
        const int64_t lo = a0 + c, hi = a0 + c + G / 64;
        acc = scaled(acc, dot32(lo4(v0), lo4(v1), a.q + lo * 32), d * a.qd[lo]);
        acc = scaled(acc, dot32(hi4(v0), hi4(v1), a.q + hi * 32), d * a.qd[hi]);
        off += m * (a.qdsum[lo] + a.qdsum[hi]);
      }
    }
  });
  return dot + off;
}

// t158: codes c = t + 1 as unsigned bytes (3 read as 1 through a table lookup), so
// sum t * x = sum c * x - sum x; bit pair s of byte j is element j + 32 s.
float i8_t158(const uint8_t* row, const GemvActs& a, int64_t k) {
  float off = 0;
  const uint8x16_t fix = {0, 1, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
  const uint8x16_t m3 = vdupq_n_u8(3);
  const float dot = over_blocks4((k + kT158Block - 1) / kT158Block, [&](int64_t b, float32x4_t& acc) {
    const uint8_t* blk = row + b * int64_t(sizeof(BlockT158));
    const float d = half(blk);
    uint8x16_t v0 = vld1q_u8(blk + 2), v1 = vld1q_u8(blk + 18);
    const int64_t a0 = b * 4;
#pragma GCC unroll 4
    for (int s = 0; s < 4; ++s) {
      const int8x16_t c0 = vreinterpretq_s8_u8(vqtbl1q_u8(fix, vandq_u8(v0, m3)));
      const int8x16_t c1 = vreinterpretq_s8_u8(vqtbl1q_u8(fix, vandq_u8(v1, m3)));
      acc = scaled(acc, dot32(c0, c1, a.q + (a0 + s) * 32), d * a.qd[a0 + s]);
      off += d * a.qdsum[a0 + s];
      v0 = vshrq_n_u8(v0, 2);
      v1 = vshrq_n_u8(v1, 2);
    }
  });
  return dot - off;
}

}  // namespace

void fill_gemv_neon(GemvTable* t) {
  fill_float_kernels<Neon>(t);
  t->int8[3] = i8_q8;             // Q8_0
  t->int8[4] = i8_q4_0;           // Q4_0
  t->int8[5] = i8_q4g<32>;        // Q4_1
  t->int8[8] = i8_q8;             // q8
  t->int8[9] = i8_q4g<32>;        // q4g32
  t->int8[10] = i8_q4g<64>;       // q4g64
  t->int8[11] = i8_q4g<128>;      // q4g128
  t->int8[14] = i8_t158;          // t158
  t->int8[12] = t->int8[13] = nullptr;  // cb4/cb4s: no NEON integer kernel; the float one runs
}

}  // namespace trapetum::cpu
#endif
