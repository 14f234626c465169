// Fused float-activation row dots for every codec, written once with 16-lane vector
// extensions and compiled per ISA. Each kernel streams a packed row once, decodes each block
// in registers and multiplies it into x; no dequantized row is written anywhere.
//
// Include after defining, in the including file, a policy P with:
//   static float h2f(uint16_t);                     fp16 -> float
//   static F16x h2f16(const uint16_t*);            16 fp16 -> 16 floats
//   static F16x lookup(F16x table, I16x idx);      table[idx[i]] for idx in [0, 16)
//   and the conversions of ConvertVector (derive from it; override what GCC lowers badly).
// Everything here has internal linkage: each ISA file gets its own copy, built with its flags.
#pragma once

#include <cstdint>
#include <cstring>

#include "kernels/cpu/gemv_table.h"
#include "quant/ggml_blocks.h"
#include "quant/lowbit.h"

namespace trapetum::cpu {
namespace {

typedef float F16x __attribute__((vector_size(64)));
typedef int32_t I16x __attribute__((vector_size(64)));
typedef uint8_t U8x16 __attribute__((vector_size(16)));
typedef int8_t S8x16 __attribute__((vector_size(16)));
typedef uint16_t U16x16 __attribute__((vector_size(32)));
typedef uint32_t U32x16 __attribute__((vector_size(64)));

#define TRAPETUM_BODY inline __attribute__((always_inline))

TRAPETUM_BODY F16x ld(const float* p) {
  F16x v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
TRAPETUM_BODY U8x16 ld8(const uint8_t* p) {
  U8x16 v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}
TRAPETUM_BODY uint16_t ld16(const uint8_t* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
TRAPETUM_BODY float hsum(F16x v) {
  // Pairwise, so the rounding does not depend on how many registers hold the 16 lanes.
  float a[16];
  std::memcpy(a, &v, sizeof(a));
  for (int w = 8; w >= 1; w /= 2)
    for (int i = 0; i < w; ++i) a[i] += a[i + w];
  return a[0];
}
// The widening conversions, as defaults that policies inherit and may override: GCC 12
// lowers these 64-byte conversions well on x86 but lane by lane on AArch64.
struct ConvertVector {
  // Bytes widen to int32 first: GCC converts bytes straight to float one lane at a time.
  TRAPETUM_BODY static I16x u8i(U8x16 v) { return __builtin_convertvector(v, I16x); }
  TRAPETUM_BODY static F16x u8f(U8x16 v) { return __builtin_convertvector(u8i(v), F16x); }
  // Signed bytes through the unsigned path (GCC 12 scalarizes the sign-extending one): v ^ 0x80
  // is v + 128 as an unsigned byte, and subtracting 128 in float is exact.
  TRAPETUM_BODY static F16x s8f(S8x16 v) { return u8f(U8x16(v) ^ 0x80) - 128.0f; }
  TRAPETUM_BODY static F16x u16f(U16x16 v) { return __builtin_convertvector(__builtin_convertvector(v, I16x), F16x); }
};

// Runs f(b, acc) over blocks [0, nb), alternating two accumulators so that consecutive
// blocks do not wait on each other's FMA.
template <class F>
TRAPETUM_BODY float over_blocks(int64_t nb, F&& f) {
  F16x acc0 = {}, acc1 = {};
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    f(b, acc0);
    f(b + 1, acc1);
  }
  if (b < nb) f(b, acc0);
  return hsum(acc0 + acc1);
}

template <class P>
float dot_f32(const uint8_t* row, const GemvActs& a, int64_t k) {
  const float* w = reinterpret_cast<const float*>(row);
  F16x acc0 = {}, acc1 = {};
  int64_t j = 0;
  for (; j + 32 <= k; j += 32) {
    acc0 += ld(w + j) * ld(a.x + j);
    acc1 += ld(w + j + 16) * ld(a.x + j + 16);
  }
  for (; j + 16 <= k; j += 16) acc0 += ld(w + j) * ld(a.x + j);
  float s = hsum(acc0 + acc1);
  for (; j < k; ++j) s += w[j] * a.x[j];
  return s;
}

// F16 and BF16: 16 halves widened per step; the tail through the scalar conversion.
template <class P, bool kBf16>
float dot_half(const uint8_t* row, const GemvActs& a, int64_t k) {
  const uint16_t* w = reinterpret_cast<const uint16_t*>(row);
  F16x acc0 = {}, acc1 = {};
  auto widen = [](const uint16_t* p) {
    if constexpr (kBf16) {
      U16x16 h;
      std::memcpy(&h, p, sizeof(h));
      const U32x16 u = __builtin_convertvector(h, U32x16) << 16;
      F16x f;
      std::memcpy(&f, &u, sizeof(f));
      return f;
    } else {
      return P::h2f16(p);
    }
  };
  int64_t j = 0;
  for (; j + 32 <= k; j += 32) {
    acc0 += widen(w + j) * ld(a.x + j);
    acc1 += widen(w + j + 16) * ld(a.x + j + 16);
  }
  for (; j + 16 <= k; j += 16) acc0 += widen(w + j) * ld(a.x + j);
  float s = hsum(acc0 + acc1);
  for (; j < k; ++j) {
    float f;
    if constexpr (kBf16) {
      const uint32_t u = uint32_t(w[j]) << 16;
      std::memcpy(&f, &u, 4);
    } else {
      f = P::h2f(w[j]);
    }
    s += f * a.x[j];
  }
  return s;
}

// q8 and GGUF Q8_0: x = d * q.
template <class P>
float dot_q8(const uint8_t* row, const GemvActs& a, int64_t k) {
  return over_blocks((k + kQK - 1) / kQK, [&](int64_t b, F16x& acc) {
    const uint8_t* blk = row + b * int64_t(sizeof(BlockQ8_0));
    const float* x = a.x + b * kQK;
    S8x16 q0, q1;
    std::memcpy(&q0, blk + 2, 16);
    std::memcpy(&q1, blk + 18, 16);
    acc += P::h2f(ld16(blk)) * (P::s8f(q0) * ld(x) + P::s8f(q1) * ld(x + 16));
  });
}

// GGUF Q4_0: x = d * (q - 8); the -8 is applied through the block sums of x.
template <class P>
float dot_q4_0(const uint8_t* row, const GemvActs& a, int64_t k) {
  float off = 0;
  const float dot = over_blocks(k / kQK, [&](int64_t b, F16x& acc) {
    const uint8_t* blk = row + b * int64_t(sizeof(BlockQ4_0));
    const float* x = a.x + b * kQK;
    const U8x16 v = ld8(blk + 2);
    const float d = P::h2f(ld16(blk));
    acc += d * (P::u8f(v & 15) * ld(x) + P::u8f(v >> 4) * ld(x + 16));
    off += d * a.xsum[b];
  });
  return dot - 8.0f * off;
}

// q4gG and GGUF Q4_1 (= q4g32): x = d * q + m; byte j holds elements j and j + G/2.
template <class P, int G>
float dot_q4g(const uint8_t* row, const GemvActs& a, int64_t k) {
  float off = 0;
  const float dot = over_blocks((k + G - 1) / G, [&](int64_t b, F16x& acc) {
    const uint8_t* blk = row + b * (4 + G / 2);
    const float* x = a.x + b * G;
    const float* xs = a.xsum + b * (G / 32);
    F16x t = {};
#pragma GCC unroll 4
    for (int c = 0; c < G / 32; ++c) {
      const U8x16 v = ld8(blk + 4 + 16 * c);
      t += P::u8f(v & 15) * ld(x + 16 * c) + P::u8f(v >> 4) * ld(x + G / 2 + 16 * c);
    }
    float s = 0;
#pragma GCC unroll 4
    for (int c = 0; c < G / 32; ++c) s += xs[c];
    acc += P::h2f(ld16(blk)) * t;
    off += P::h2f(ld16(blk + 2)) * s;
  });
  return dot + off;
}

// cb4: x = c[q] from the row codebook, looked up by a register permute.
template <class P>
float dot_cb4(const uint8_t* row, const GemvActs& a, int64_t k) {
  const F16x table = P::h2f16(reinterpret_cast<const uint16_t*>(row));
  const uint8_t* q = row + kCb4HeaderBytes;
  return over_blocks((k + kCb4Block - 1) / kCb4Block, [&](int64_t b, F16x& acc) {
    const U8x16 v = ld8(q + b * int64_t(sizeof(BlockCb4)));
    const float* x = a.x + b * kCb4Block;
    acc += P::lookup(table, P::u8i(v & 15)) * ld(x) + P::lookup(table, P::u8i(v >> 4)) * ld(x + 16);
  });
}

// 2^(-e/16) (0 for e = 255), built from the exact kCb4sScaleFrac values.
TRAPETUM_BODY float cb4s_group_scale(uint8_t e) {
  if (e == 255) return 0.0f;
  const uint32_t bits = uint32_t(127 - (e >> 4)) << 23;
  float p;
  std::memcpy(&p, &bits, 4);
  return kCb4sScaleFrac[e & 15] * p;
}

// cb4s: x = c[q] * 2^(-e/16) per group of 64; byte j holds elements j and j + 32.
template <class P>
float dot_cb4s(const uint8_t* row, const GemvActs& a, int64_t k) {
  const F16x table = P::h2f16(reinterpret_cast<const uint16_t*>(row));
  const uint8_t* q = row + kCb4HeaderBytes;
  return over_blocks((k + kCb4sBlock - 1) / kCb4sBlock, [&](int64_t b, F16x& acc) {
    const uint8_t* blk = q + b * int64_t(sizeof(BlockCb4s));
    const float* x = a.x + b * kCb4sBlock;
    const U8x16 v0 = ld8(blk + 1), v1 = ld8(blk + 17);
    const F16x t = P::lookup(table, P::u8i(v0 & 15)) * ld(x) + P::lookup(table, P::u8i(v1 & 15)) * ld(x + 16) +
                   P::lookup(table, P::u8i(v0 >> 4)) * ld(x + 32) + P::lookup(table, P::u8i(v1 >> 4)) * ld(x + 48);
    acc += cb4s_group_scale(blk[0]) * t;
  });
}

// Ternary value of 2-bit codes: 0 -> -1, 2 -> +1, 1 and 3 -> 0 (comparisons give -1 or 0).
template <class P>
TRAPETUM_BODY F16x trit(U8x16 c) { return P::s8f(S8x16(c == 0) - S8x16(c == 2)); }

// t158: x = d * t; byte j holds elements j, j + 32, j + 64, j + 96 in bit pairs.
template <class P>
float dot_t158(const uint8_t* row, const GemvActs& a, int64_t k) {
  return over_blocks((k + kT158Block - 1) / kT158Block, [&](int64_t b, F16x& acc) {
    const uint8_t* blk = row + b * int64_t(sizeof(BlockT158));
    const float* x = a.x + b * kT158Block;
    const U8x16 v0 = ld8(blk + 2), v1 = ld8(blk + 18);
    F16x t = {};
#pragma GCC unroll 4
    for (int s = 0; s < 4; ++s)
      t += trit<P>((v0 >> (2 * s)) & 3) * ld(x + 32 * s) + trit<P>((v1 >> (2 * s)) & 3) * ld(x + 32 * s + 16);
    acc += P::h2f(ld16(blk)) * t;
  });
}

// t158p: byte j (0..25) holds elements j + 26 i, i = 0..4, as base-3 digits. Lanes past byte
// 25 get 121 (every digit 1, value 0), so the last group's loads of x past the block meet
// zero weights; the caller pads x to allow them.
template <class P>
float dot_t158p(const uint8_t* row, const GemvActs& a, int64_t k) {
  return over_blocks((k + kT158Block - 1) / kT158Block, [&](int64_t b, F16x& acc) {
    const uint8_t* blk = row + b * int64_t(sizeof(BlockT158P));
    const float* x = a.x + b * kT158Block;
    uint8_t bytes[32];
    std::memset(bytes, 121, sizeof(bytes));
    std::memcpy(bytes, blk + 2, kT158PBytes);
    U16x16 v0, v1;
    v0 = __builtin_convertvector(ld8(bytes), U16x16);
    v1 = __builtin_convertvector(ld8(bytes + 16), U16x16);
    F16x t = {};
#pragma GCC unroll 5
    for (int i = 0; i < 5; ++i) {
      // v / 3 as (v * 171) >> 9: exact for v < 512, and v <= 242 here.
      const U16x16 q0 = (v0 * 171) >> 9, q1 = (v1 * 171) >> 9;
      t += (P::u16f(v0 - q0 * 3) - 1.0f) * ld(x + 26 * i) + (P::u16f(v1 - q1 * 3) - 1.0f) * ld(x + 26 * i + 16);
      v0 = q0;
      v1 = q1;
    }
    acc += P::h2f(ld16(blk)) * t;
  });
}

// The j-th (scale, min) pair of a Q4_K super-block (6 bits each, packed in 12 bytes).
TRAPETUM_BODY void q4k_pair(int j, const uint8_t* q, int* sc, int* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = (q[j + 4] & 0x0f) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// GGUF Q4_K: each 64 elements use 32 bytes, low nibbles first; x = d * sc * q - dmin * m.
template <class P>
float dot_q4_k(const uint8_t* row, const GemvActs& a, int64_t k) {
  const int64_t nb = k / kQKK;
  F16x acc = {};
  float off = 0;
  const float* x = a.x;
  const float* xs = a.xsum;
  for (int64_t b = 0; b < nb; ++b, row += sizeof(BlockQ4_K)) {
    const auto* blk = reinterpret_cast<const BlockQ4_K*>(row);
    const float d = P::h2f(ld16(row)), dmin = P::h2f(ld16(row + 2));
    for (int j = 0; j < 4; ++j, x += 64, xs += 2) {
      int sc1, m1, sc2, m2;
      q4k_pair(2 * j, blk->scales, &sc1, &m1);
      q4k_pair(2 * j + 1, blk->scales, &sc2, &m2);
      const uint8_t* q = blk->qs + 32 * j;
      const U8x16 v0 = ld8(q), v1 = ld8(q + 16);
      const F16x lo = P::u8f(v0 & 15) * ld(x) + P::u8f(v1 & 15) * ld(x + 16);
      const F16x hi = P::u8f(v0 >> 4) * ld(x + 32) + P::u8f(v1 >> 4) * ld(x + 48);
      acc += (d * float(sc1)) * lo + (d * float(sc2)) * hi;
      off += dmin * (float(m1) * xs[0] + float(m2) * xs[1]);
    }
  }
  return hsum(acc) - off;
}

// GGUF Q6_K: 6-bit quants (low 4 bits in ql, high 2 in qh) minus 32, a scale per 16.
template <class P>
float dot_q6_k(const uint8_t* row, const GemvActs& a, int64_t k) {
  const int64_t nb = k / kQKK;
  F16x acc0 = {}, acc1 = {};
  const float* x = a.x;
  for (int64_t b = 0; b < nb; ++b, row += sizeof(BlockQ6_K)) {
    const auto* blk = reinterpret_cast<const BlockQ6_K*>(row);
    const float d = P::h2f(blk->d);
    for (int half = 0; half < 2; ++half, x += 128) {
      const uint8_t* ql = blk->ql + 64 * half;
      const uint8_t* qh = blk->qh + 32 * half;
      const int8_t* sc = blk->scales + 8 * half;
#pragma GCC unroll 2
      for (int c = 0; c < 2; ++c) {
        const U8x16 l0 = ld8(ql + 16 * c), l1 = ld8(ql + 32 + 16 * c), h = ld8(qh + 16 * c);
        const F16x q1 = P::u8f((l0 & 15) | ((h & 3) << 4)) - 32.0f;
        const F16x q2 = P::u8f((l1 & 15) | (((h >> 2) & 3) << 4)) - 32.0f;
        const F16x q3 = P::u8f((l0 >> 4) | (((h >> 4) & 3) << 4)) - 32.0f;
        const F16x q4 = P::u8f((l1 >> 4) | (((h >> 6) & 3) << 4)) - 32.0f;
        const int l = 16 * c;
        acc0 += (d * float(sc[c])) * (q1 * ld(x + l)) + (d * float(sc[c + 2])) * (q2 * ld(x + l + 32));
        acc1 += (d * float(sc[c + 4])) * (q3 * ld(x + l + 64)) + (d * float(sc[c + 6])) * (q4 * ld(x + l + 96));
      }
    }
  }
  return hsum(acc0 + acc1);
}

template <class P>
void prepare_token(const float* x, int64_t k, int64_t kpad, bool int8, float* xp, float* xsum, int8_t* q, float* qd,
                   int32_t* qsum, float* qdsum) {
  std::memcpy(xp, x, size_t(k) * sizeof(float));
  std::memset(xp + k, 0, size_t(kpad - k) * sizeof(float));
  for (int64_t b = 0; b < kpad / kActBlock; ++b) {
    const F16x v0 = ld(xp + b * kActBlock), v1 = ld(xp + b * kActBlock + 16);
    xsum[b] = hsum(v0 + v1);
    if (!int8) continue;
    U32x16 u0, u1;
    std::memcpy(&u0, &v0, sizeof(u0));
    std::memcpy(&u1, &v1, sizeof(u1));
    U32x16 am = (u0 & 0x7fffffffu) > (u1 & 0x7fffffffu) ? (u0 & 0x7fffffffu) : (u1 & 0x7fffffffu);  // |x| bits
    uint32_t mbits = 0;  // non-negative floats order as their bit patterns
    for (int i = 0; i < 16; ++i) mbits = am[i] > mbits ? am[i] : mbits;
    float amax;
    std::memcpy(&amax, &mbits, 4);
    const float d = amax / 127.0f, inv = d > 0 ? 1.0f / d : 0.0f;
    // Adding and subtracting 1.5 * 2^23 rounds to the nearest integer, ties to even, as
    // nearbyint does in the default rounding mode (|x / d| <= 127 here).
    const F16x r0 = (v0 * inv + 12582912.0f) - 12582912.0f, r1 = (v1 * inv + 12582912.0f) - 12582912.0f;
    const I16x i0 = __builtin_convertvector(r0, I16x), i1 = __builtin_convertvector(r1, I16x);
    int32_t s = 0;
    for (int i = 0; i < 16; ++i) {
      q[b * kActBlock + i] = int8_t(i0[i]);
      q[b * kActBlock + 16 + i] = int8_t(i1[i]);
      s += i0[i] + i1[i];
    }
    qd[b] = d;
    qsum[b] = s;
    qdsum[b] = d * float(s);
  }
}

// The float-activation row of the table, indexed by DType's values (see gemv.cpp).
template <class P>
void fill_float_kernels(GemvTable* t) {
  t->f32[0] = dot_f32<P>;             // F32
  t->f32[1] = dot_half<P, false>;     // F16
  t->f32[2] = dot_half<P, true>;      // BF16
  t->f32[3] = dot_q8<P>;              // Q8_0
  t->f32[4] = dot_q4_0<P>;            // Q4_0
  t->f32[5] = dot_q4g<P, 32>;         // Q4_1
  t->f32[6] = dot_q4_k<P>;            // Q4_K
  t->f32[7] = dot_q6_k<P>;            // Q6_K
  t->f32[8] = dot_q8<P>;              // q8
  t->f32[9] = dot_q4g<P, 32>;         // q4g32
  t->f32[10] = dot_q4g<P, 64>;        // q4g64
  t->f32[11] = dot_q4g<P, 128>;       // q4g128
  t->f32[12] = dot_cb4<P>;            // cb4
  t->f32[13] = dot_cb4s<P>;           // cb4s
  t->f32[14] = dot_t158<P>;           // t158
  t->f32[15] = dot_t158p<P>;          // t158p
  t->prepare = prepare_token<P>;
}

}  // namespace
}  // namespace trapetum::cpu
