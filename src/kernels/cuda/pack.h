// Repacking of a weight into its device layout (device_weight.h), on the host: the codes and
// scales of every codec regrouped so that one 16-byte load holds consecutive elements. Values
// are unchanged bit for bit; only Q6_K (int8 + float scale per 16) and t158p (2-bit codes)
// take more bytes on the device than in the file.
#pragma once

#include <cstdint>
#include <vector>

#include "core/result.h"
#include "core/tensor.h"
#include "kernels/cuda/device_weight.h"

namespace trapetum::cuda {

struct PackedWeight {
  Family family = Family::kF32;
  int64_t rows = 0, cols = 0, pitch = 0, scale_pitch = 0;
  int group = 0;
  std::vector<uint8_t> codes;    // (rows, pitch)
  std::vector<uint8_t> scales;   // (rows, scale_pitch) entries of scale_bytes(family)
  std::vector<uint16_t> books;   // (rows, 16) for kCb4 and kCb4S
  std::vector<uint32_t> o_row_ptr, o_cols;
  std::vector<uint16_t> o_vals;

  // Bytes a GEMV reads: codes, scales, books and outliers.
  int64_t device_bytes() const;
  // A view whose pointers are this object's host vectors (host tests of the decoders).
  DevWeight host_view() const;
};

// Bytes of one scale entry of a family (0 when it has none).
int scale_bytes(Family f);
const char* family_name(Family f);

// Repacks w (rows, cols) of any codec; errors name the dtype when it has no device layout.
Result<PackedWeight> pack_weight(const TensorView& w);

}  // namespace trapetum::cuda
