// TensorView: a non-owning view of a packed tensor (dtype, shape, data). Shapes are
// outermost-first, so a weight matrix is (rows, cols) with cols contiguous.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "quant/codec.h"

namespace trapetum {

enum class Device : uint8_t { kCpu = 0, kCuda };

struct TensorView {
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;  // outermost first; shape.back() is contiguous
  const void* data = nullptr;
  Device device = Device::kCpu;

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
