// Presses one tensor: every row is read from its source format, quantized, dequantized
// again to measure the error, and optionally given sparse fp16 outlier corrections.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "core/tensor.h"
#include "io/cbk.h"

namespace trapetum {

class ThreadPool;

struct PressedTensor {
  DType dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> data;  // rows * row_bytes
  SparseRowsData outliers;    // empty unless outliers were asked for
  double sq_error = 0;        // ||W - Q(W)||_F^2 (outliers applied)
  double sq_norm = 0;         // ||W||_F^2
  double rel_error() const { return sq_norm > 0 ? std::sqrt(sq_error / sq_norm) : 0.0; }
  uint64_t stored_bytes() const;  // data plus outlier arrays, as laid out in a .cbk
  double bits_per_weight() const;
};

// outlier_fraction: share of each row (rounded up) whose largest residuals are kept as fp16
// corrections; those positions are zeroed before the row is quantized again, so they do not
// stretch the fit. Rows run in parallel; the result does not depend on the thread count.
PressedTensor press_tensor(const TensorView& src, DType dtype, double outlier_fraction, ThreadPool& pool);

}  // namespace trapetum
