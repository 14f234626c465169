// Prefill matmul with int8 activations (AVX-512 VNNI): each 16-row weight tile is unpacked
// once into unsigned bytes with per-block float scales (w = d * u + m), interleaved so one
// vpdpbusd multiplies 4 bytes of all 16 rows by 4 broadcast activation bytes, then applied
// to every token of the call.
#pragma once

#include <cstdint>

#include "core/tensor.h"
#include "kernels/cpu/cpu_features.h"
#include "kernels/cpu/gemv.h"

namespace trapetum::cpu {

inline constexpr int64_t kGemmTileRows = 16;

// Whether the int8 prefill path exists for this ISA and codec.
bool has_gemm_int8(Isa isa, DType d);

// Bytes of per-thread scratch gemm_int8_tile needs for rows of kpad (GemvInput::kpad()) elements.
int64_t gemm_int8_scratch_bytes(int64_t kpad);

// y[t * ldy + r] for r in [r0, r1) (r1 - r0 <= 16) and every token t of in (prepared with
// int8). scratch: gemm_int8_scratch_bytes(in.kpad()) bytes, 64-byte aligned.
void gemm_int8_tile(const TensorView& w, const GemvInput& in, int m, float* y, int64_t ldy, int64_t r0, int64_t r1,
                    uint8_t* scratch);

// The packed tile the micro-kernel reads (gemm_int8_pack.cpp builds it, portably):
// w = d * (u - zero) + m. Codecs with an integer offset (q8's +128, Q4_0's 8, t158's 1) use
// zero, subtracted from the int32 block sums exactly; only q4g/Q4_1 have a float m.
struct PackedTile {
  const uint8_t* u;  // (nblk, 8, 16 rows, 4 bytes) unsigned weight bytes
  const float* d;    // (nblk, 16) scale per row and block
  const float* m;    // (nblk, 16) offset per row and block (all 0 unless has_min)
  int64_t nblk;      // 32-element blocks (kpad / 32)
  int32_t zero;      // integer offset of u, the same for the whole codec
  bool has_min;
};
// Packs rows [r0, r1) of w; missing rows and blocks past a row's end get d = m = 0.
PackedTile pack_tile_int8(const TensorView& w, int64_t r0, int64_t r1, int64_t kpad, uint8_t* scratch);

// The VNNI micro-kernel over every token (gemm_int8_avx512.cpp).
void gemm_int8_avx512(const PackedTile& p, const GemvInput& in, int m, float* y, int64_t ldy, int64_t rows);

}  // namespace trapetum::cpu
