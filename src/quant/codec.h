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
  // trapetum's own codecs (src/quant/lowbit.h); rows need not be whole blocks.
  kQ8,      // q8: int8 symmetric, groups of 32, fp16 scale (the Q8_0 block)
  kQ4G32,   // q4g32: int4 asymmetric, groups of 32, fp16 scale + fp16 min
  kQ4G64,   // q4g64
  kQ4G128,  // q4g128
  kCB4,     // cb4: 4-bit codes into a per-row codebook of 16 fp16 centroids
  kCB4S,    // cb4s: cb4 plus a log-scale byte per 64 elements
  kT158,    // t158: ternary, groups of 128, fp16 scale, 2-bit codes
  kT158P,   // t158p: t158 packed 5 trits per byte
  kCount
};

// Reference dequantization of one row of n elements from its packed bytes.
using DequantizeFn = void (*)(const void* src, float* dst, int64_t n);
// Reference quantization of one row of n elements into row_bytes(n) bytes. importance, when
// not null, weights each element's squared error (n values, all >= 0); deterministic.
using QuantizeFn = void (*)(const float* src, void* dst, int64_t n, const float* importance);

struct Codec {
  DType dtype;
  std::string_view name;
  int64_t block_elems;  // elements per block
  int64_t block_bytes;  // bytes per block
  DequantizeFn dequantize;
  QuantizeFn quantize = nullptr;  // null for formats trapetum reads but does not write
  int64_t row_header_bytes = 0;   // bytes ahead of the first block of each row (cb4's codebook)
  bool pads_tail = false;         // a row may end in a partial block, stored zero-padded

  // Bits per weight of the blocks alone (rows of many blocks).
  double bits_per_weight() const { return 8.0 * double(block_bytes) / double(block_elems); }
  // Exact bits per weight of a row of n elements, row header and padding included.
  double bits_per_weight(int64_t n) const { return 8.0 * double(row_bytes(n)) / double(n); }
  // Bytes of a row of n elements, or -1 when n is not allowed (not a whole number of blocks
  // for formats that do not pad).
  int64_t row_bytes(int64_t n) const {
    if (n <= 0 || (!pads_tail && n % block_elems)) return -1;
    return row_header_bytes + (n + block_elems - 1) / block_elems * block_bytes;
  }
};

const Codec& codec(DType t);
std::string_view dtype_name(DType t);
std::optional<DType> dtype_from_name(std::string_view name);

}  // namespace trapetum
