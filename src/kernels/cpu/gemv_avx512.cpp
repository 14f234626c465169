// AVX-512 GEMV kernels (F, BW, VL, VNNI, F16C): float bodies with vpermps codebook lookups,
// int8 bodies with vpdpbusd. Built with those ISA flags; called only after cpuid says so.
#if defined(__x86_64__)
#include <immintrin.h>

#include "kernels/cpu/gemv_float_body.h"
#include "kernels/cpu/gemv_int8_x86_body.h"

namespace trapetum::cpu {
namespace {

struct Avx512 : ConvertVector {
  TRAPETUM_BODY static float h2f(uint16_t h) { return _cvtsh_ss(h); }
  TRAPETUM_BODY static F16x h2f16(const uint16_t* p) {
    return F16x(_mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))));
  }
  TRAPETUM_BODY static F16x lookup(F16x table, I16x idx) { return F16x(_mm512_permutexvar_ps(__m512i(idx), __m512(table))); }
  TRAPETUM_BODY static __m256i dot(__m256i u, __m256i s) { return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s); }
};

// The row codebook as gemv_generic.cpp's cb4_int8_codebook rounds it, stored as c8 + 128 in
// every 16-byte lane (a vpshufb table); returns s / 127.
__m512i cb4_table(const uint8_t* row, float* unit) {
  const __m512 c = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(row)));
  const float s = _mm512_reduce_max_ps(_mm512_abs_ps(c));
  const float inv = s > 0 ? 127.0f / s : 0.0f;
  // cvtps rounds to nearest even, as nearbyint in the default rounding mode.
  const __m128i c8 = _mm512_cvtepi32_epi8(_mm512_cvtps_epi32(_mm512_mul_ps(c, _mm512_set1_ps(inv))));
  *unit = s / 127.0f;
  return _mm512_broadcast_i32x4(_mm_xor_si128(c8, _mm_set1_epi8(char(0x80))));
}

// Two cb4 blocks (their 32 packed bytes at p) looked up: c8 + 128 of elements 0..63 in order.
TRAPETUM_BODY __m512i cb4_pair(__m512i table, const uint8_t* p) {
  const __m256i m15 = _mm256_set1_epi8(15);
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i lo = _mm256_and_si256(v, m15), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m15);
  const __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);  // A0-15 B0-15 A16-31 B16-31
  return _mm512_shuffle_epi8(table, _mm512_shuffle_i64x2(w, w, _MM_SHUFFLE(3, 1, 2, 0)));
}

// One cb4s group (its 32 code bytes at p; byte j holds elements j and j + 32) looked up.
TRAPETUM_BODY __m512i cb4s_group(__m512i table, const uint8_t* p) {
  const __m256i m15 = _mm256_set1_epi8(15);
  const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  const __m256i lo = _mm256_and_si256(v, m15), hi = _mm256_and_si256(_mm256_srli_epi16(v, 4), m15);
  return _mm512_shuffle_epi8(table, _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1));
}

// cb4, int8: two blocks per step; the looked-up bytes are c8 + 128, and each dot product
// starts from -128 * sum(q) (q4neg), so the int32 sums are exactly sum c8 * q.
float i8_cb4(const uint8_t* row, const GemvActs& a, int64_t k) {
  float unit;
  const __m512i table = cb4_table(row, &unit);
  const uint8_t* q = row + kCb4HeaderBytes;
  const int64_t nb = (k + kCb4Block - 1) / kCb4Block;
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    const __m512i w = cb4_pair(table, q + b * 16);
    const __m512i d = _mm512_dpbusd_epi32(_mm512_loadu_si512(a.q4neg + b * 8), w, _mm512_loadu_si512(a.q + b * 32));
    __m512& acc = (b / 2) & 1 ? acc1 : acc0;
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_loadu_ps(a.qd8 + b * 8), acc);
  }
  float r = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
  if (b < nb) {
    const __m256i w = _mm256_shuffle_epi8(_mm512_castsi512_si256(table), nibbles16(q + b * 16));
    const __m256i d = _mm256_dpbusd_epi32(load32(a.q4neg + b * 8), w, load32(a.q + b * 32));
    r += hsum8(_mm256_mul_ps(_mm256_cvtepi32_ps(d), _mm256_loadu_ps(a.qd8 + b * 8)));
  }
  return unit * r;
}

// cb4s, int8: one 64-element group per step; byte j holds elements j and j + 32, so the low
// nibbles of the 32 bytes are elements 0..31 in order.
float i8_cb4s(const uint8_t* row, const GemvActs& a, int64_t k) {
  float unit;
  const __m512i table = cb4_table(row, &unit);
  const uint8_t* blk = row + kCb4HeaderBytes;
  const int64_t nb = (k + kCb4sBlock - 1) / kCb4sBlock;
  __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b, blk += sizeof(BlockCb4s)) {
    const __m512i w = cb4s_group(table, blk + 1);
    const __m512i d = _mm512_dpbusd_epi32(_mm512_loadu_si512(a.q4neg + b * 16), w, _mm512_loadu_si512(a.q + b * 64));
    const float g = cb4s_group_scale(blk[0]);
    __m512& acc = b & 1 ? acc1 : acc0;
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_mul_ps(_mm512_loadu_ps(a.qd8 + b * 16), _mm512_set1_ps(g)), acc);
  }
  return unit * _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
}

// ---- Several tokens per pass: each row chunk is unpacked to bytes once, then multiplied into
// every token's activations (up to kGemvMultiMax), so batched decode pays the unpacking once.
// Each token's sums run in the same order for any M, so a token's result does not depend on
// the others in its batch.

#define TRAPETUM_TOKENS(M) _Pragma("GCC unroll 8") for (int i = 0; i < M; ++i)

// q4g64 / q4g128 on 64-element vectors: weights are unsigned nibbles, so dpbusd needs no
// offset; each group's min m meets the per-block sums of the quantized activations (qdsum).
template <int G, int M>
void m8_q4g(const uint8_t* row, const GemvActs* a, int64_t k, float* out) {
  constexpr int kStride = 4 + G / 2;
  const int64_t ng = (k + G - 1) / G;
  const __m512i m15 = _mm512_set1_epi8(15), zero = _mm512_setzero_si512();
  // G = 64: the 32 bytes in both halves, the upper half shifted to its high nibbles.
  const __m512i hi_shift = _mm512_setr_epi64(0, 0, 0, 0, 4, 4, 4, 4);
  __m512 acc[M], off[M];
  TRAPETUM_TOKENS(M) acc[i] = off[i] = _mm512_setzero_ps();
  auto group = [&](int64_t g, __m512 d) {
    const uint8_t* q = row + g * kStride + 4;
    const int64_t e = g * G;  // first element; its activation scales start at qd8 + e / 4
    if constexpr (G == 64) {
      const __m512i v = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(q)));
      const __m512i w = _mm512_and_si512(_mm512_srlv_epi64(v, hi_shift), m15);  // elements 0..63
      TRAPETUM_TOKENS(M) {
        const __m512i s = _mm512_dpbusd_epi32(zero, w, _mm512_loadu_si512(a[i].q + e));
        acc[i] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(s), _mm512_loadu_ps(a[i].qd8 + e / 4)), d, acc[i]);
      }
    } else {
      const __m512i v = _mm512_loadu_si512(q);
      const __m512i w0 = _mm512_and_si512(v, m15), w1 = _mm512_and_si512(_mm512_srli_epi16(v, 4), m15);
      TRAPETUM_TOKENS(M) {
        const __m512i s0 = _mm512_dpbusd_epi32(zero, w0, _mm512_loadu_si512(a[i].q + e));
        const __m512i s1 = _mm512_dpbusd_epi32(zero, w1, _mm512_loadu_si512(a[i].q + e + 64));
        const __m512 t = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s1), _mm512_loadu_ps(a[i].qd8 + e / 4 + 16),
                                         _mm512_mul_ps(_mm512_cvtepi32_ps(s0), _mm512_loadu_ps(a[i].qd8 + e / 4)));
        acc[i] = _mm512_fmadd_ps(t, d, acc[i]);
      }
    }
  };
  constexpr int kBlocks = G / 32;  // activation blocks per group
  int64_t g = 0;
  for (; g + 8 <= ng; g += 8) {
    __m256 d8, m8;
    load_dm8<kStride>(row + g * kStride, &d8, &m8);
    alignas(32) float dv[8];
    _mm256_store_ps(dv, d8);
#pragma GCC unroll 8
    for (int j = 0; j < 8; ++j) group(g + j, _mm512_set1_ps(dv[j]));
    // The 8 mins, each repeated over its group's blocks, against those blocks' qdsum.
    const __m512 mz = _mm512_castps256_ps512(m8);
    for (int h = 0; h < kBlocks / 2; ++h) {
      const __m512i idx = _mm512_srli_epi32(
          _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                           _mm512_set1_epi32(16 * h)),
          kBlocks == 2 ? 1 : 2);
      const __m512 mb = _mm512_permutexvar_ps(idx, mz);
      TRAPETUM_TOKENS(M) off[i] = _mm512_fmadd_ps(mb, _mm512_loadu_ps(a[i].qdsum + g * kBlocks + 16 * h), off[i]);
    }
  }
  for (; g < ng; ++g) {
    const uint8_t* blk = row + g * kStride;
    group(g, _mm512_set1_ps(half(blk)));
    const __m512 mb = _mm512_set1_ps(half(blk + 2));
    TRAPETUM_TOKENS(M) off[i] = _mm512_fmadd_ps(mb, _mm512_maskz_loadu_ps((1u << kBlocks) - 1, a[i].qdsum + g * kBlocks), off[i]);
  }
  TRAPETUM_TOKENS(M) out[i] = _mm512_reduce_add_ps(acc[i]) + _mm512_reduce_add_ps(off[i]);
}

// cb4: the looked-up bytes c8 + 128 of two blocks, decoded once; per token the dot products
// start from q4neg as in i8_cb4.
template <int M>
void m8_cb4(const uint8_t* row, const GemvActs* a, int64_t k, float* out) {
  float unit;
  const __m512i table = cb4_table(row, &unit);
  const uint8_t* q = row + kCb4HeaderBytes;
  const int64_t nb = (k + kCb4Block - 1) / kCb4Block;
  __m512 acc[M];
  float tail[M] = {};
  TRAPETUM_TOKENS(M) acc[i] = _mm512_setzero_ps();
  int64_t b = 0;
  for (; b + 2 <= nb; b += 2) {
    const __m512i w = cb4_pair(table, q + b * 16);
    TRAPETUM_TOKENS(M) {
      const __m512i s = _mm512_dpbusd_epi32(_mm512_loadu_si512(a[i].q4neg + b * 8), w, _mm512_loadu_si512(a[i].q + b * 32));
      acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s), _mm512_loadu_ps(a[i].qd8 + b * 8), acc[i]);
    }
  }
  if (b < nb) {
    const __m256i w = _mm256_shuffle_epi8(_mm512_castsi512_si256(table), nibbles16(q + b * 16));
    TRAPETUM_TOKENS(M) {
      const __m256i s = _mm256_dpbusd_epi32(load32(a[i].q4neg + b * 8), w, load32(a[i].q + b * 32));
      tail[i] = hsum8(_mm256_mul_ps(_mm256_cvtepi32_ps(s), _mm256_loadu_ps(a[i].qd8 + b * 8)));
    }
  }
  TRAPETUM_TOKENS(M) out[i] = unit * (_mm512_reduce_add_ps(acc[i]) + tail[i]);
}

// cb4s: one 64-element group per step, its scale applied after the token's block scales.
template <int M>
void m8_cb4s(const uint8_t* row, const GemvActs* a, int64_t k, float* out) {
  float unit;
  const __m512i table = cb4_table(row, &unit);
  const uint8_t* blk = row + kCb4HeaderBytes;
  const int64_t nb = (k + kCb4sBlock - 1) / kCb4sBlock;
  __m512 acc[M];
  TRAPETUM_TOKENS(M) acc[i] = _mm512_setzero_ps();
  for (int64_t b = 0; b < nb; ++b, blk += sizeof(BlockCb4s)) {
    const __m512i w = cb4s_group(table, blk + 1);
    const __m512 g = _mm512_set1_ps(cb4s_group_scale(blk[0]));
    TRAPETUM_TOKENS(M) {
      const __m512i s = _mm512_dpbusd_epi32(_mm512_loadu_si512(a[i].q4neg + b * 16), w, _mm512_loadu_si512(a[i].q + b * 64));
      acc[i] = _mm512_fmadd_ps(_mm512_mul_ps(_mm512_cvtepi32_ps(s), _mm512_loadu_ps(a[i].qd8 + b * 16)), g, acc[i]);
    }
  }
  TRAPETUM_TOKENS(M) out[i] = unit * _mm512_reduce_add_ps(acc[i]);
}

#undef TRAPETUM_TOKENS

// ---- 16 rows x up to 8 tokens (q4g64 / q4g128): 16 rows' packed bytes are transposed in
// registers so that lane r of a vector holds 4 consecutive weights of row r; one vpdpbusd then
// multiplies 16 rows by 4 broadcast activation bytes, and each block's int32 sums are scaled
// once for 16 rows instead of once per 4 weights. out[i * 16 + r] = row r . token i.

// The 32 bytes at p + r * stride of rows r = 0..15 as 8 vectors: lane r of w[j] = dword j of
// row r (an 8x8 dword transpose in each 256-bit half, then the halves interleaved).
TRAPETUM_BODY void transpose16x8(const uint8_t* p, int64_t stride, __m512i w[8]) {
  __m512i rr[8], t[8], u[8];
  for (int i = 0; i < 8; ++i)
    rr[i] = _mm512_inserti64x4(
        _mm512_castsi256_si512(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i * stride))),
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + (i + 8) * stride)), 1);
  for (int i = 0; i < 4; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(rr[2 * i], rr[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(rr[2 * i], rr[2 * i + 1]);
  }
  // u[j] (u[4 + j] for rows 4-7 / 12-15), 128-bit lanes: dword j of rows 0-3, dword j + 4 of
  // rows 0-3, dword j of rows 8-11, dword j + 4 of rows 8-11.
  for (int h = 0; h < 2; ++h) {
    u[4 * h + 0] = _mm512_unpacklo_epi64(t[4 * h], t[4 * h + 2]);
    u[4 * h + 1] = _mm512_unpackhi_epi64(t[4 * h], t[4 * h + 2]);
    u[4 * h + 2] = _mm512_unpacklo_epi64(t[4 * h + 1], t[4 * h + 3]);
    u[4 * h + 3] = _mm512_unpackhi_epi64(t[4 * h + 1], t[4 * h + 3]);
  }
  const __m512i lo = _mm512_setr_epi64(0, 1, 8, 9, 4, 5, 12, 13), hi = _mm512_setr_epi64(2, 3, 10, 11, 6, 7, 14, 15);
  for (int j = 0; j < 4; ++j) {
    w[j] = _mm512_permutex2var_epi64(u[j], lo, u[4 + j]);
    w[j + 4] = _mm512_permutex2var_epi64(u[j], hi, u[4 + j]);
  }
}

TRAPETUM_BODY int32_t dword(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

template <int G, int M>
void t16_q4g(const uint8_t* row0, int64_t stride, const GemvActs* a, int64_t k, float* out) {
  constexpr int kStride = 4 + G / 2, kBlocks = G / 32;
  const int64_t ng = (k + G - 1) / G, next_lines = (16 * stride + 63) / 64;
  const __m512i m15 = _mm512_set1_epi8(15);
  const __m512i roff = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                          _mm512_set1_epi32(int32_t(stride)));
  __m512 acc[M];
  for (int i = 0; i < M; ++i) acc[i] = _mm512_setzero_ps();
  alignas(64) __m512i raw[8];
  for (int64_t g = 0; g < ng; ++g) {
    const uint8_t* grp = row0 + g * kStride;
    // The 16 rows are read as 16 interleaved streams, which the hardware prefetchers follow
    // badly; the next tile (16 * stride bytes, contiguous) is prefetched as one sequential
    // stream instead, spread over this tile's groups. (Prefetch never faults past the end.)
    for (int64_t l = g * next_lines / ng; l < (g + 1) * next_lines / ng; ++l)
      _mm_prefetch(reinterpret_cast<const char*>(row0 + 16 * stride + l * 64), _MM_HINT_T0);
    const __m512i dm = _mm512_i32gather_epi32(roff, grp, 1);  // fp16 d | fp16 m << 16, per row
    const __m512 d = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(dm));
    const __m512 mn = _mm512_cvtph_ps(_mm512_cvtepi32_epi16(_mm512_srli_epi32(dm, 16)));
    for (int c = 0; c < G / 64; ++c) {
      transpose16x8(grp + 4 + 32 * c, stride, raw);
      for (int half = 0; half < 2; ++half) {  // low nibbles: block c; high: block c + G / 64
        const int64_t b = g * kBlocks + c + half * (G / 64);
        __m512i w[8];
        for (int j = 0; j < 8; ++j) w[j] = _mm512_and_si512(half ? _mm512_srli_epi16(raw[j], 4) : raw[j], m15);
        // The tokens' sums interleaved, dword by dword: M independent vpdpbusd chains side by
        // side, so the scheduler finds ready work within a few instructions. Token after token
        // was about 5% slower (bench kernels q4g64 2048x2048, 8 tokens, 1 thread, 1000 reps:
        // 0.297 against 0.281 ms).
        __m512i s[M];
#pragma GCC unroll 8
        for (int i = 0; i < M; ++i)
          s[i] = _mm512_dpbusd_epi32(_mm512_setzero_si512(), w[0], _mm512_set1_epi32(dword(a[i].q + b * 32)));
#pragma GCC unroll 8
        for (int j = 1; j < 8; ++j)
#pragma GCC unroll 8
          for (int i = 0; i < M; ++i)
            s[i] = _mm512_dpbusd_epi32(s[i], w[j], _mm512_set1_epi32(dword(a[i].q + b * 32 + 4 * j)));
#pragma GCC unroll 8
        for (int i = 0; i < M; ++i)
          acc[i] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(s[i]), _mm512_mul_ps(d, _mm512_set1_ps(a[i].qd[b])), acc[i]);
      }
    }
#pragma GCC unroll 8
    for (int i = 0; i < M; ++i) {
      float qs = 0;  // the group's activation block sums, which its min multiplies
      for (int j = 0; j < kBlocks; ++j) qs += a[i].qdsum[g * kBlocks + j];
      acc[i] = _mm512_fmadd_ps(mn, _mm512_set1_ps(qs), acc[i]);
    }
  }
  for (int i = 0; i < M; ++i) _mm512_storeu_ps(out + i * 16, acc[i]);
}


// Picks the instantiation for m tokens (1 <= m <= kGemvMultiMax).
template <template <int> class K>
void tile_by_count(const uint8_t* row0, int64_t stride, const GemvActs* a, int m, int64_t k, float* out) {
  switch (m) {
    case 1: return K<1>::run(row0, stride, a, k, out);
    case 2: return K<2>::run(row0, stride, a, k, out);
    case 3: return K<3>::run(row0, stride, a, k, out);
    case 4: return K<4>::run(row0, stride, a, k, out);
    case 5: return K<5>::run(row0, stride, a, k, out);
    case 6: return K<6>::run(row0, stride, a, k, out);
    case 7: return K<7>::run(row0, stride, a, k, out);
    default: return K<8>::run(row0, stride, a, k, out);
  }
}
template <template <int> class K>
void by_count(const uint8_t* row, const GemvActs* a, int m, int64_t k, float* out) {
  switch (m) {
    case 1: return K<1>::run(row, a, k, out);
    case 2: return K<2>::run(row, a, k, out);
    case 3: return K<3>::run(row, a, k, out);
    case 4: return K<4>::run(row, a, k, out);
    case 5: return K<5>::run(row, a, k, out);
    case 6: return K<6>::run(row, a, k, out);
    case 7: return K<7>::run(row, a, k, out);
    default: return K<8>::run(row, a, k, out);
  }
}
template <int M> struct Q4g64 { static void run(const uint8_t* r, const GemvActs* a, int64_t k, float* o) { m8_q4g<64, M>(r, a, k, o); } };
template <int M> struct Tile64 { static void run(const uint8_t* r, int64_t s, const GemvActs* a, int64_t k, float* o) { t16_q4g<64, M>(r, s, a, k, o); } };
template <int M> struct Tile128 { static void run(const uint8_t* r, int64_t s, const GemvActs* a, int64_t k, float* o) { t16_q4g<128, M>(r, s, a, k, o); } };
template <int M> struct Q4g128 { static void run(const uint8_t* r, const GemvActs* a, int64_t k, float* o) { m8_q4g<128, M>(r, a, k, o); } };
template <int M> struct Cb4 { static void run(const uint8_t* r, const GemvActs* a, int64_t k, float* o) { m8_cb4<M>(r, a, k, o); } };
template <int M> struct Cb4s { static void run(const uint8_t* r, const GemvActs* a, int64_t k, float* o) { m8_cb4s<M>(r, a, k, o); } };

}  // namespace

void fill_gemv_avx512(GemvTable* t) {
  fill_float_kernels<Avx512>(t);
  fill_int8_kernels<Avx512>(t);
  t->int8[12] = i8_cb4;   // cb4
  t->int8[13] = i8_cb4s;  // cb4s
  t->int8m[10] = by_count<Q4g64>;
  t->int8t[10] = tile_by_count<Tile64>;
  t->int8t[11] = tile_by_count<Tile128>;
  t->int8m[11] = by_count<Q4g128>;
  t->int8m[12] = by_count<Cb4>;
  t->int8m[13] = by_count<Cb4s>;
}

}  // namespace trapetum::cpu
#endif
