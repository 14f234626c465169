// Unpacks a 16-row tile of an integer codec into the interleaved unsigned-byte layout of the
// int8 prefill kernel, each 32-element block's value being d * (u - zero) + m.
#include <cstring>

#include "core/check.h"
#include "core/half.h"
#include "kernels/cpu/gemm_int8.h"
#include "quant/ggml_blocks.h"
#include "quant/lowbit.h"

namespace trapetum::cpu {
namespace {

// The integer offset of u per codec (see PackedTile); 0 for the codecs with a float minimum.
int32_t zero_of(DType dt) {
  switch (dt) {
    case DType::kQ8_0: case DType::kQ8: case DType::kCB4: case DType::kCB4S: return 128;
    case DType::kQ4_0: return 8;
    case DType::kT158: return 1;
    default: return 0;
  }
}

// One row's blocks [0, nb) as 32 unsigned bytes and (d, m) each; returns the blocks written.
int64_t unpack_row(DType dt, const uint8_t* row, int64_t k, uint8_t* u, float* d, float* m) {
  auto h = [](const uint8_t* p) {
    uint16_t v;
    std::memcpy(&v, p, 2);
    return fp16_to_float(v);
  };
  auto nibbles = [](const uint8_t* q, int half, uint8_t* out, int n) {  // n elements; byte j: j, j + half
    for (int e = 0; e < n; ++e) out[e] = e < half ? q[e] & 15 : q[e - half] >> 4;
  };
  switch (dt) {
    case DType::kQ8_0:
    case DType::kQ8: {
      const int64_t nb = (k + 31) / 32;
      for (int64_t b = 0; b < nb; ++b, row += sizeof(BlockQ8_0)) {
        for (int e = 0; e < 32; ++e) u[b * 32 + e] = uint8_t(row[2 + e] ^ 0x80);  // q + 128
        d[b] = h(row);
        m[b] = 0.0f;
      }
      return nb;
    }
    case DType::kQ4_0: {
      const int64_t nb = k / 32;
      for (int64_t b = 0; b < nb; ++b, row += sizeof(BlockQ4_0)) {
        nibbles(row + 2, 16, u + b * 32, 32);
        d[b] = h(row);
        m[b] = 0.0f;
      }
      return nb;
    }
    case DType::kQ4_1:
    case DType::kQ4G32:
    case DType::kQ4G64:
    case DType::kQ4G128: {
      const int g = dt == DType::kQ4G64 ? 64 : dt == DType::kQ4G128 ? 128 : 32;
      const int64_t nb = (k + g - 1) / g;
      uint8_t tmp[128];
      for (int64_t b = 0; b < nb; ++b, row += 4 + g / 2) {
        nibbles(row + 4, g / 2, tmp, g);
        std::memcpy(u + b * g, tmp, size_t(g));
        for (int c = 0; c < g / 32; ++c) {
          d[b * (g / 32) + c] = h(row);
          m[b * (g / 32) + c] = h(row + 2);
        }
      }
      return nb * (g / 32);
    }
    case DType::kCB4:
    case DType::kCB4S: {  // c8 + 128 from the int8-rounded row codebook (gemv_table.h)
      int8_t c8[16];
      const float unit = cb4_int8_codebook(row, c8);
      uint8_t lut[16];
      for (int i = 0; i < 16; ++i) lut[i] = uint8_t(c8[i] ^ 0x80);
      const uint8_t* q = row + kCb4HeaderBytes;
      if (dt == DType::kCB4) {
        const int64_t nb = (k + kCb4Block - 1) / kCb4Block;
        uint8_t tmp[32];
        for (int64_t b = 0; b < nb; ++b, q += sizeof(BlockCb4)) {
          nibbles(q, 16, tmp, 32);
          for (int e = 0; e < 32; ++e) u[b * 32 + e] = lut[tmp[e]];
          d[b] = unit;
          m[b] = 0.0f;
        }
        return nb;
      }
      const int64_t nb = (k + kCb4sBlock - 1) / kCb4sBlock;
      uint8_t tmp[64];
      for (int64_t b = 0; b < nb; ++b, q += sizeof(BlockCb4s)) {
        nibbles(q + 1, 32, tmp, 64);
        for (int e = 0; e < 64; ++e) u[b * 64 + e] = lut[tmp[e]];
        d[2 * b] = d[2 * b + 1] = unit * cb4s_scale(q[0]);
        m[2 * b] = m[2 * b + 1] = 0.0f;
      }
      return 2 * nb;
    }
    case DType::kT158: {
      const int64_t nb = (k + kT158Block - 1) / kT158Block;
      static constexpr uint8_t kFix[4] = {0, 1, 2, 1};  // code 3 reads as 0 (code 1)
      for (int64_t b = 0; b < nb; ++b, row += sizeof(BlockT158)) {
        for (int s = 0; s < 4; ++s) {
          for (int j = 0; j < 32; ++j) u[b * 128 + s * 32 + j] = kFix[(row[2 + j] >> (2 * s)) & 3];
          d[b * 4 + s] = h(row);
          m[b * 4 + s] = 0.0f;
        }
      }
      return nb * 4;
    }
    default: return -1;
  }
}

}  // namespace

bool has_gemm_int8(Isa isa, DType d) {
  if (isa != Isa::kAvx512) return false;
  switch (d) {
    case DType::kQ8_0: case DType::kQ8: case DType::kQ4_0: case DType::kQ4_1: case DType::kQ4G32:
    case DType::kQ4G64: case DType::kQ4G128: case DType::kT158: case DType::kCB4: case DType::kCB4S: return true;
    default: return false;
  }
}

int64_t gemm_int8_scratch_bytes(int64_t kpad) {
  const int64_t nblk = kpad / 32;
  // Packed tile, its scales, and one row's unpacked bytes and scales.
  return nblk * 512 + 2 * nblk * 16 * 4 + kpad + 2 * nblk * 4 + 64;
}

PackedTile pack_tile_int8(const TensorView& w, int64_t r0, int64_t r1, int64_t kpad, uint8_t* scratch) {
  const int64_t nblk = kpad / 32;
  uint8_t* up = scratch;
  float* dp = reinterpret_cast<float*>(up + nblk * 512);
  float* mp = dp + nblk * 16;
  uint8_t* row_u = reinterpret_cast<uint8_t*>(mp + nblk * 16);
  float* row_d = reinterpret_cast<float*>(row_u + kpad);
  float* row_m = row_d + nblk;
  for (int64_t r = 0; r < kGemmTileRows; ++r) {
    int64_t done = 0;
    if (r0 + r < r1) done = unpack_row(w.dtype, w.row(r0 + r), w.cols(), row_u, row_d, row_m);
    for (int64_t b = 0; b < nblk; ++b) {
      const bool have = b < done;
      dp[b * 16 + r] = have ? row_d[b] : 0.0f;
      mp[b * 16 + r] = have ? row_m[b] : 0.0f;
      // Dword s of row r's block b goes to lane r of the block's s-th 64-byte vector.
      uint32_t* dst = reinterpret_cast<uint32_t*>(up + b * 512) + r;
      for (int s = 0; s < 8; ++s) {
        uint32_t v = 0;
        if (have) std::memcpy(&v, row_u + b * 32 + s * 4, 4);
        dst[s * 16] = v;
      }
    }
  }
  return {up, dp, mp, nblk, zero_of(w.dtype), zero_of(w.dtype) == 0};
}

void gemm_int8_tile(const TensorView& w, const GemvInput& in, int m, float* y, int64_t ldy, int64_t r0, int64_t r1,
                    uint8_t* scratch) {
#if defined(__x86_64__)
  const PackedTile p = pack_tile_int8(w, r0, r1, in.kpad(), scratch);
  gemm_int8_avx512(p, in, m, y + r0, ldy, r1 - r0);
#else
  CHECK(false && "gemm_int8_tile needs AVX-512 VNNI");
#endif
  const SparseRows& o = w.outliers;
  if (o.nnz == 0) return;
  for (int t = 0; t < m; ++t) {
    const float* x = in.token(t).x;
    for (int64_t r = r0; r < r1; ++r)
      for (uint32_t e = o.row_ptr[r]; e < o.row_ptr[r + 1]; ++e) y[t * ldy + r] += fp16_to_float(o.vals[e]) * x[o.cols[e]];
  }
}

}  // namespace trapetum::cpu
