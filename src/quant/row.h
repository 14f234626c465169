// Reference dequantization of one row of a packed tensor, sparse outliers included: the
// single definition of what a stored weight means, used by every reference and tile path.
#pragma once

#include "core/half.h"
#include "core/tensor.h"

namespace trapetum {

inline void dequantize_row(const TensorView& w, int64_t r, float* dst) {
  codec(w.dtype).dequantize(w.row(r), dst, w.cols());
  const SparseRows& o = w.outliers;
  if (o.nnz == 0) return;
  for (uint32_t i = o.row_ptr[r]; i < o.row_ptr[r + 1]; ++i) dst[o.cols[i]] += fp16_to_float(o.vals[i]);
}

}  // namespace trapetum
