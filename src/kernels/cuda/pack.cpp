// Device-layout repacking of every codec (pack.h): codes in element order, scales per group.
#include "kernels/cuda/pack.h"

#include <algorithm>
#include <cstring>

#include "core/half.h"
#include "quant/ggml_blocks.h"
#include "quant/lowbit.h"

namespace trapetum::cuda {
namespace {

int64_t round16(int64_t n) { return (n + 15) / 16 * 16; }

void put_u16(std::vector<uint8_t>& v, int64_t at, uint16_t x) { std::memcpy(v.data() + at, &x, 2); }
uint16_t get_u16(const uint8_t* p) {
  uint16_t x;
  std::memcpy(&x, p, 2);
  return x;
}

// Sets up the arrays for bits-per-code codes and scale entries of every group elements.
void shape(PackedWeight& p, const TensorView& w, Family f, int bits, int group) {
  p.family = f;
  p.rows = w.rows();
  p.cols = w.cols();
  p.pitch = round16((p.cols * bits + 7) / 8);
  p.group = group;
  p.scale_pitch = group ? (p.cols + group - 1) / group : 0;
  p.codes.assign(size_t(p.rows * p.pitch), 0);
  p.scales.assign(size_t(p.rows * p.scale_pitch * scale_bytes(f)), 0);
}

void set_nibble(uint8_t* row, int64_t e, uint8_t q) { row[e / 2] |= uint8_t((q & 15) << (4 * (e & 1))); }

// q4gG, Q4_0, Q4_1: blocks of (d, m) then G/2 bytes with element j low and j + G/2 high.
// Q4_0 stores x = d (q - 8): m = -8 d is exact in fp16 and d q + m equals d (q - 8) exactly.
void pack_q4(PackedWeight& p, const TensorView& w, int group, int64_t block_bytes, bool has_m) {
  shape(p, w, Family::kQ4, 4, group);
  for (int64_t r = 0; r < p.rows; ++r) {
    const uint8_t* src = w.row(r);
    uint8_t* dst = p.codes.data() + r * p.pitch;
    for (int64_t g = 0; g < p.scale_pitch; ++g, src += block_bytes) {
      const uint16_t d = get_u16(src);
      const uint16_t m = has_m ? get_u16(src + 2) : float_to_fp16(-8.0f * fp16_to_float(d));
      const int64_t at = (r * p.scale_pitch + g) * 4;
      put_u16(p.scales, at, d);
      put_u16(p.scales, at + 2, m);
      const uint8_t* qs = src + (has_m ? 4 : 2);
      for (int j = 0; j < group / 2; ++j) {
        const int64_t e = g * group + j;
        if (e < p.cols) set_nibble(dst, e, qs[j] & 15);
        if (e + group / 2 < p.cols) set_nibble(dst, e + group / 2, qs[j] >> 4);
      }
    }
  }
}

// q8 and Q8_0 share BlockQ8_0.
void pack_q8(PackedWeight& p, const TensorView& w) {
  shape(p, w, Family::kI8, 8, kQK);
  for (int64_t r = 0; r < p.rows; ++r) {
    const auto* b = reinterpret_cast<const BlockQ8_0*>(w.row(r));
    for (int64_t g = 0; g < p.scale_pitch; ++g) {
      put_u16(p.scales, (r * p.scale_pitch + g) * 2, b[g].d);
      const int64_t n = std::min<int64_t>(kQK, p.cols - g * kQK);
      std::memcpy(p.codes.data() + r * p.pitch + g * kQK, b[g].qs, size_t(n));
    }
  }
}

// Q6_K: x = (d sc) q per 16 with q in [-32, 31]: int8 codes, the product d sc as a float.
void pack_q6k(PackedWeight& p, const TensorView& w) {
  shape(p, w, Family::kI8F, 8, 16);
  for (int64_t r = 0; r < p.rows; ++r) {
    const auto* b = reinterpret_cast<const BlockQ6_K*>(w.row(r));
    auto* codes = reinterpret_cast<int8_t*>(p.codes.data() + r * p.pitch);
    for (int64_t s = 0; s < p.cols / kQKK; ++s, ++b) {
      const float d = fp16_to_float(b->d);
      for (int half = 0; half < 2; ++half) {
        const uint8_t* ql = b->ql + 64 * half;
        const uint8_t* qh = b->qh + 32 * half;
        int8_t* q = codes + s * kQKK + 128 * half;
        for (int l = 0; l < 32; ++l) {
          q[l] = int8_t(int((ql[l] & 15) | ((qh[l] & 3) << 4)) - 32);
          q[l + 32] = int8_t(int((ql[l + 32] & 15) | (((qh[l] >> 2) & 3) << 4)) - 32);
          q[l + 64] = int8_t(int((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
          q[l + 96] = int8_t(int((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
        }
      }
      for (int j = 0; j < 16; ++j) {
        const float sc = d * float(b->scales[j]);
        std::memcpy(p.scales.data() + (r * p.scale_pitch + s * 16 + j) * 4, &sc, 4);
      }
    }
  }
}

// Q4_K: 64 elements per 32 bytes (low nibbles the first 32); 6-bit scales unpacked.
void pack_q4k(PackedWeight& p, const TensorView& w) {
  shape(p, w, Family::kQ4K, 4, kQKK);
  for (int64_t r = 0; r < p.rows; ++r) {
    const auto* b = reinterpret_cast<const BlockQ4_K*>(w.row(r));
    uint8_t* dst = p.codes.data() + r * p.pitch;
    for (int64_t s = 0; s < p.scale_pitch; ++s, ++b) {
      DevQ4K k{b->d, b->dmin, {}, {}};
      const uint8_t* q = b->scales;
      for (int j = 0; j < 8; ++j) {
        k.sc[j] = j < 4 ? q[j] & 63 : uint8_t((q[j + 4] & 15) | ((q[j - 4] >> 6) << 4));
        k.m[j] = j < 4 ? q[j + 4] & 63 : uint8_t((q[j + 4] >> 4) | ((q[j] >> 6) << 4));
      }
      std::memcpy(p.scales.data() + (r * p.scale_pitch + s) * sizeof(DevQ4K), &k, sizeof(DevQ4K));
      for (int j = 0; j < 4; ++j)
        for (int l = 0; l < 32; ++l) {
          const int64_t e = s * kQKK + 64 * j + l;
          set_nibble(dst, e, b->qs[32 * j + l] & 15);
          set_nibble(dst, e + 32, b->qs[32 * j + l] >> 4);
        }
    }
  }
}

// cb4 (block 32, byte j: elements j, j + 16) and cb4s (block 64 with a scale byte first).
void pack_cb4(PackedWeight& p, const TensorView& w, bool scaled) {
  const int block = scaled ? int(kCb4sBlock) : int(kCb4Block);
  const int64_t block_bytes = scaled ? int64_t(sizeof(BlockCb4s)) : int64_t(sizeof(BlockCb4));
  shape(p, w, scaled ? Family::kCb4S : Family::kCb4, 4, scaled ? block : 0);
  p.books.resize(size_t(p.rows) * 16);
  for (int64_t r = 0; r < p.rows; ++r) {
    const uint8_t* src = w.row(r);
    std::memcpy(p.books.data() + r * 16, src, 32);
    src += kCb4HeaderBytes;
    uint8_t* dst = p.codes.data() + r * p.pitch;
    for (int64_t g = 0; g * block < p.cols; ++g, src += block_bytes) {
      const uint8_t* qs = src;
      if (scaled) {
        p.scales[size_t(r * p.scale_pitch + g)] = src[0];
        qs = src + 1;
      }
      for (int j = 0; j < block / 2; ++j) {
        const int64_t e = g * block + j;
        if (e < p.cols) set_nibble(dst, e, qs[j] & 15);
        if (e + block / 2 < p.cols) set_nibble(dst, e + block / 2, qs[j] >> 4);
      }
    }
  }
}

// t158 (byte j: elements j, j+32, j+64, j+96) and t158p (base 3): 2-bit codes t + 1, where
// t158's code 3 (reads as 0) becomes 1.
void pack_t2(PackedWeight& p, const TensorView& w, bool base3) {
  shape(p, w, Family::kT2, 2, int(kT158Block));
  const int64_t block_bytes = base3 ? int64_t(sizeof(BlockT158P)) : int64_t(sizeof(BlockT158));
  for (int64_t r = 0; r < p.rows; ++r) {
    const uint8_t* src = w.row(r);
    uint8_t* dst = p.codes.data() + r * p.pitch;
    for (int64_t g = 0; g < p.scale_pitch; ++g, src += block_bytes) {
      put_u16(p.scales, (r * p.scale_pitch + g) * 2, get_u16(src));
      for (int i = 0; i < kT158Block; ++i) {
        const int64_t e = g * kT158Block + i;
        if (e >= p.cols) break;
        int code;
        if (base3) {
          int v = src[2 + i % kT158PBytes];
          for (int k = 0; k < i / kT158PBytes; ++k) v /= 3;
          code = v % 3;
        } else {
          code = (src[2 + i % 32] >> (2 * (i / 32))) & 3;
          if (code == 3) code = 1;
        }
        dst[e / 4] |= uint8_t(code << (2 * (e % 4)));
      }
    }
  }
}

void pack_plain(PackedWeight& p, const TensorView& w, Family f, int bytes) {
  shape(p, w, f, 8 * bytes, 0);
  for (int64_t r = 0; r < p.rows; ++r)
    std::memcpy(p.codes.data() + r * p.pitch, w.row(r), size_t(p.cols * bytes));
}

}  // namespace

int scale_bytes(Family f) {
  switch (f) {
    case Family::kI8: case Family::kT2: return 2;
    case Family::kI8F: case Family::kQ4: return 4;
    case Family::kQ4K: return int(sizeof(DevQ4K));
    case Family::kCb4S: return 1;
    default: return 0;
  }
}

const char* family_name(Family f) {
  constexpr const char* kNames[] = {"f32", "f16", "bf16", "i8", "i8f", "q4", "q4k", "cb4", "cb4s", "t2"};
  return kNames[int(f)];
}

int64_t PackedWeight::device_bytes() const {
  return int64_t(codes.size() + scales.size() + books.size() * 2 + o_row_ptr.size() * 4 + o_cols.size() * 4 +
                 o_vals.size() * 2);
}

DevWeight PackedWeight::host_view() const {
  DevWeight v;
  v.family = family;
  v.rows = rows;
  v.cols = cols;
  v.pitch = pitch;
  v.group = group;
  v.scale_pitch = scale_pitch;
  v.codes = codes.data();
  v.scales = scales.data();
  v.books = books.empty() ? nullptr : books.data();
  v.nnz = int64_t(o_vals.size());
  if (v.nnz) {
    v.o_row_ptr = o_row_ptr.data();
    v.o_cols = o_cols.data();
    v.o_vals = o_vals.data();
  }
  return v;
}

Result<PackedWeight> pack_weight(const TensorView& w) {
  if (!w.data) return make_error("pack for the GPU: tensor has no data");
  if (w.row_bytes() < 0)
    return make_error("pack for the GPU: ", w.cols(), " columns is not a whole number of ", dtype_name(w.dtype),
                      " blocks");
  PackedWeight p;
  switch (w.dtype) {
    case DType::kF32: pack_plain(p, w, Family::kF32, 4); break;
    case DType::kF16: pack_plain(p, w, Family::kF16, 2); break;
    case DType::kBF16: pack_plain(p, w, Family::kBF16, 2); break;
    case DType::kQ8_0: case DType::kQ8: pack_q8(p, w); break;
    case DType::kQ4_0: pack_q4(p, w, kQK, sizeof(BlockQ4_0), false); break;
    case DType::kQ4_1: pack_q4(p, w, kQK, sizeof(BlockQ4_1), true); break;
    case DType::kQ4G32: pack_q4(p, w, 32, q4g_block_bytes(32), true); break;
    case DType::kQ4G64: pack_q4(p, w, 64, q4g_block_bytes(64), true); break;
    case DType::kQ4G128: pack_q4(p, w, 128, q4g_block_bytes(128), true); break;
    case DType::kQ4_K: pack_q4k(p, w); break;
    case DType::kQ6_K: pack_q6k(p, w); break;
    case DType::kCB4: pack_cb4(p, w, false); break;
    case DType::kCB4S: pack_cb4(p, w, true); break;
    case DType::kT158: pack_t2(p, w, false); break;
    case DType::kT158P: pack_t2(p, w, true); break;
    default: return make_error("pack for the GPU: no device layout for ", dtype_name(w.dtype));
  }
  const SparseRows& o = w.outliers;
  if (o.nnz > 0) {
    p.o_row_ptr.assign(o.row_ptr, o.row_ptr + p.rows + 1);
    p.o_cols.assign(o.cols, o.cols + o.nnz);
    p.o_vals.assign(o.vals, o.vals + o.nnz);
  }
  return p;
}

}  // namespace trapetum::cuda
