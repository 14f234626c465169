// The codec table: one row per weight format (name, block size, bytes per block, bits per
// weight, reference dequantize). Every matmul and loader looks formats up here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

namespace trapetum {

enum class DType : uint8_t {
  kF32 = 0,
  kF16,
  kBF16,
  kQ8_0,  // GGUF Q8_0: 32 int8 + fp16 scale
  kQ4_0,  // GGUF Q4_0: 32 x 4-bit + fp16 scale
  kQ4_1,  // GGUF Q4_1: 32 x 4-bit + fp16 scale + fp16 min
  kQ4_K,  // GGUF Q4_K: 256-element super-blocks, 6-bit sub-scales
  kQ6_K,  // GGUF Q6_K: 256-element super-blocks, 6-bit quants
  kCount
};

// Reference dequantization of n elements (n a multiple of block_elems) from packed src.
using DequantizeFn = void (*)(const void* src, float* dst, int64_t n);

struct Codec {
  DType dtype;
  std::string_view name;
  int64_t block_elems;  // elements per block
  int64_t block_bytes;  // bytes per block
  DequantizeFn dequantize;

  double bits_per_weight() const { return 8.0 * double(block_bytes) / double(block_elems); }
  // Bytes of a row of n elements, or -1 when n is not a whole number of blocks.
  int64_t row_bytes(int64_t n) const { return n % block_elems ? -1 : n / block_elems * block_bytes; }
};

const Codec& codec(DType t);
std::string_view dtype_name(DType t);
std::optional<DType> dtype_from_name(std::string_view name);

}  // namespace trapetum
