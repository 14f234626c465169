// DevWeight: a weight matrix in its device layout, and the per-family decoders the CUDA kernels
// use. Plain C++ when not compiled by nvcc, so host tests run the very decoders the GPU runs.
#pragma once

#include <cstdint>

#include "core/half.h"

#if defined(__CUDACC__)
#include <cuda_fp16.h>
#define TRAPETUM_HD __host__ __device__ __forceinline__
#else
#define TRAPETUM_HD inline
#endif

// Full unrolling keeps per-chunk arrays in registers on the GPU (no local memory); the host
// pass of nvcc and plain C++ builds see nothing.
#if defined(__CUDA_ARCH__)
#define TRAPETUM_UNROLL _Pragma("unroll")
#else
#define TRAPETUM_UNROLL
#endif

namespace trapetum::cuda {

// Device layouts. Every codec maps onto one family (pack.h): the codes of a row are contiguous
// and in element order, so 16 bytes (one lane's load) always cover consecutive elements.
enum class Family : uint8_t {
  kF32,   // float codes
  kF16,   // fp16 codes
  kBF16,  // bf16 codes
  kI8,    // int8 codes, fp16 scale per group: x = d * q (q8, Q8_0)
  kI8F,   // int8 codes, float scale per group: x = s * q (Q6_K, widened)
  kQ4,    // 4-bit codes (element 2j low nibble, 2j + 1 high), fp16 (d, m) per group: x = d * q + m
          // (q4g32/64/128, Q4_0, Q4_1)
  kQ4K,   // 4-bit codes, DevQ4K per 256: x = (d * sc) * q - dmin * m per 32 (Q4_K)
  kCb4,   // 4-bit codes into the row's 16 fp16 centroids
  kCb4S,  // kCb4 times a log-scale byte per 64 (cb4s)
  kT2,    // 2-bit codes (element 4j + i in bits 2i..2i+1), value code - 1, fp16 scale per 128
          // (t158, and t158p unpacked at upload)
};

// Q4_K's per-super-block scales, unpacked from 6 bits: 20 bytes per 256 elements.
struct DevQ4K {
  uint16_t d, dmin;  // fp16
  uint8_t sc[8];     // sub-block scale, per 32 elements
  uint8_t m[8];      // sub-block min
};
static_assert(sizeof(DevQ4K) == 20);

// One 16-byte load of codes.
struct alignas(16) Raw16 {
  uint32_t u[4];
};

struct DevWeight {
  Family family = Family::kF32;
  int64_t rows = 0, cols = 0;
  int64_t pitch = 0;              // bytes of codes per row, a multiple of 16 (tail zero-padded)
  int group = 0;                  // elements per scale entry (0: none)
  int64_t scale_pitch = 0;        // scale entries per row
  const uint8_t* codes = nullptr;  // (rows, pitch)
  const void* scales = nullptr;    // (rows, scale_pitch) entries of the family's scale type
  const uint16_t* books = nullptr;  // kCb4, kCb4S: (rows, 16) fp16 centroids
  const uint32_t* o_row_ptr = nullptr;  // sparse outliers, CSR (tensor.h); nnz == 0: none
  const uint32_t* o_cols = nullptr;
  const uint16_t* o_vals = nullptr;
  int64_t nnz = 0;
};

TRAPETUM_HD float half_bits_to_float(uint16_t h) {
#if defined(__CUDA_ARCH__)
  return __half2float(__ushort_as_half(h));
#else
  return fp16_to_float(h);
#endif
}

TRAPETUM_HD float bf16_bits_to_float(uint16_t h) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(uint32_t(h) << 16);
#else
  return bf16_to_float(h);
#endif
}

TRAPETUM_HD float exp2_int(int e) {
  // 2^-e for e in 0..15, exactly (cb4s scales span 16 octaves).
#if defined(__CUDA_ARCH__)
  return __uint_as_float(uint32_t(127 - e) << 23);
#else
  return bits_to_float(uint32_t(127 - e) << 23);
#endif
}

// 2^(-j/16) as float bits: must equal kCb4sScaleFrac in quant/lowbit.h (checked by a host test).
#define TRAPETUM_CB4S_FRAC_BITS                                                                    \
  {0x3f800000u, 0x3f75257du, 0x3f6ac0c7u, 0x3f60ccdfu, 0x3f5744fdu, 0x3f4e248cu, 0x3f45672au, 0x3f3d08a4u, \
   0x3f3504f3u, 0x3f2d583fu, 0x3f25fed7u, 0x3f1ef532u, 0x3f1837f0u, 0x3f11c3d3u, 0x3f0b95c2u, 0x3f05aac3u}
inline constexpr uint32_t kCb4sFracBits[16] = TRAPETUM_CB4S_FRAC_BITS;
#if defined(__CUDACC__)
static __constant__ uint32_t kCb4sFracBitsDev[16] = TRAPETUM_CB4S_FRAC_BITS;
#endif

TRAPETUM_HD float cb4s_frac(int j) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(kCb4sFracBitsDev[j]);
#else
  return bits_to_float(kCb4sFracBits[j]);
#endif
}

// Elements one 16-byte load of codes covers.
template <Family F>
inline constexpr int kChunk = F == Family::kF32                                         ? 4
                              : (F == Family::kF16 || F == Family::kBF16)               ? 8
                              : (F == Family::kI8 || F == Family::kI8F)                 ? 16
                              : F == Family::kT2                                        ? 64
                                                                                        : 32;

TRAPETUM_HD uint8_t raw_byte(const Raw16& r, int i) { return uint8_t(r.u[i >> 2] >> (8 * (i & 3))); }

// out[0 .. kChunk<F>) = the weights of row r, elements c * kChunk<F> onwards, from the
// chunk's codes raw. Values past the row's end decode from zero padding (callers ignore them).
// book: kCb4/kCb4S only, row r's 16 centroids as floats (shared memory in the GEMV), or null to
// read the fp16 codebook from w.books.
template <Family F>
TRAPETUM_HD void decode_chunk(const DevWeight& w, int64_t r, int64_t c, const Raw16& raw, float* out,
                              const float* book = nullptr) {
  constexpr int kN = kChunk<F>;
  const int64_t e0 = c * kN;
  if constexpr (F == Family::kF32) {
    TRAPETUM_UNROLL
    for (int i = 0; i < 4; ++i) {
#if defined(__CUDA_ARCH__)
      out[i] = __uint_as_float(raw.u[i]);
#else
      out[i] = bits_to_float(raw.u[i]);
#endif
    }
  } else if constexpr (F == Family::kF16 || F == Family::kBF16) {
    TRAPETUM_UNROLL
    for (int i = 0; i < 8; ++i) {
      const uint16_t h = uint16_t(raw.u[i >> 1] >> (16 * (i & 1)));
      out[i] = F == Family::kF16 ? half_bits_to_float(h) : bf16_bits_to_float(h);
    }
  } else if constexpr (F == Family::kI8 || F == Family::kI8F) {
    const int64_t s = r * w.scale_pitch + e0 / w.group;
    float d;
    if constexpr (F == Family::kI8) {
      d = half_bits_to_float(static_cast<const uint16_t*>(w.scales)[s]);
    } else {
      d = static_cast<const float*>(w.scales)[s];
    }
    // A chunk of 16 may straddle two groups only when group < 16, which no codec uses.
    TRAPETUM_UNROLL
    for (int i = 0; i < 16; ++i) out[i] = d * float(int8_t(raw_byte(raw, i)));
  } else if constexpr (F == Family::kQ4) {
    const uint16_t* dm = static_cast<const uint16_t*>(w.scales) + 2 * (r * w.scale_pitch + e0 / w.group);
    const float d = half_bits_to_float(dm[0]), m = half_bits_to_float(dm[1]);
    TRAPETUM_UNROLL
    for (int i = 0; i < 16; ++i) {
      const uint8_t b = raw_byte(raw, i);
      out[2 * i] = d * float(b & 15) + m;
      out[2 * i + 1] = d * float(b >> 4) + m;
    }
  } else if constexpr (F == Family::kQ4K) {
    const DevQ4K& s = static_cast<const DevQ4K*>(w.scales)[r * w.scale_pitch + e0 / 256];
    const int j = int(e0 % 256) / 32;
    const float d = half_bits_to_float(s.d) * float(s.sc[j]);
    const float m = half_bits_to_float(s.dmin) * float(s.m[j]);
    TRAPETUM_UNROLL
    for (int i = 0; i < 16; ++i) {
      const uint8_t b = raw_byte(raw, i);
      out[2 * i] = d * float(b & 15) - m;
      out[2 * i + 1] = d * float(b >> 4) - m;
    }
  } else if constexpr (F == Family::kCb4 || F == Family::kCb4S) {
    const uint16_t* hbook = w.books + r * 16;
    float scale = 1.0f;
    if constexpr (F == Family::kCb4S) {
      const uint8_t e = static_cast<const uint8_t*>(w.scales)[r * w.scale_pitch + e0 / 64];
      scale = e == 255 ? 0.0f : cb4s_frac(e & 15) * exp2_int(e >> 4);
    }
    TRAPETUM_UNROLL
    for (int i = 0; i < 16; ++i) {
      const uint8_t b = raw_byte(raw, i);
      const float lo = book ? book[b & 15] : half_bits_to_float(hbook[b & 15]);
      const float hi = book ? book[b >> 4] : half_bits_to_float(hbook[b >> 4]);
      // cb4's scale of 1 is exact, so one expression serves both layouts.
      out[2 * i] = lo * scale;
      out[2 * i + 1] = hi * scale;
    }
  } else {
    static_assert(F == Family::kT2);
    const float d = half_bits_to_float(static_cast<const uint16_t*>(w.scales)[r * w.scale_pitch + e0 / 128]);
    TRAPETUM_UNROLL
    for (int i = 0; i < 16; ++i) {
      const uint8_t b = raw_byte(raw, i);
      TRAPETUM_UNROLL
      for (int k = 0; k < 4; ++k) out[4 * i + k] = d * float(int((b >> (2 * k)) & 3) - 1);
    }
  }
}

// The codes of chunk c of row r.
TRAPETUM_HD Raw16 load_chunk(const DevWeight& w, int64_t r, int64_t c) {
  return reinterpret_cast<const Raw16*>(w.codes + r * w.pitch)[c];
}

}  // namespace trapetum::cuda
