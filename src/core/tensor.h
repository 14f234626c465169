// TensorView: a non-owning view of a packed tensor (dtype, shape, data). Shapes are
// outermost-first, so a weight matrix is (rows, cols) with cols contiguous.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "quant/codec.h"

namespace trapetum {

enum class Device : uint8_t { kCpu = 0, kCuda };

// Sparse additive corrections of a quantized matrix (SpQR-style outliers), in CSR order:
// rows ascending, columns ascending within a row, so kernels walk the output linearly.
struct SparseRows {
  const uint32_t* row_ptr = nullptr;  // (rows + 1): entries of row r are [row_ptr[r], row_ptr[r+1])
  const uint32_t* cols = nullptr;     // (nnz) column of each entry
  const uint16_t* vals = nullptr;     // (nnz) fp16 value added to the dequantized weight
  int64_t nnz = 0;
};

struct TensorView {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;  // outermost first; shape.back() is contiguous
  const void* data = nullptr;
  Device device = Device::kCpu;
  SparseRows outliers;  // empty for most tensors

  int64_t numel() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
  }
  int64_t rows() const { return shape.size() < 2 ? 1 : numel() / shape.back(); }
  int64_t cols() const { return shape.empty() ? 1 : shape.back(); }
  // Bytes of one row of packed data.
  int64_t row_bytes() const { return codec(dtype).row_bytes(cols()); }
  int64_t nbytes() const { return rows() * row_bytes(); }
  const uint8_t* row(int64_t r) const { return static_cast<const uint8_t*>(data) + r * row_bytes(); }
};

}  // namespace trapetum
