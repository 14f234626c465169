// The codec table.
#include "quant/codec.h"

#include "core/check.h"
#include "quant/ggml_blocks.h"
#include "quant/lowbit.h"
#include "quant/plain.h"

namespace trapetum {
namespace {

constexpr Codec kCodecs[] = {
    {DType::kF32, "F32", 1, 4, dequantize_f32, quantize_f32},
    {DType::kF16, "F16", 1, 2, dequantize_f16, quantize_f16},
    {DType::kBF16, "BF16", 1, 2, dequantize_bf16, quantize_bf16},
    {DType::kQ8_0, "Q8_0", 32, sizeof(BlockQ8_0), dequantize_q8_0},
    {DType::kQ4_0, "Q4_0", 32, sizeof(BlockQ4_0), dequantize_q4_0},
    {DType::kQ4_1, "Q4_1", 32, sizeof(BlockQ4_1), dequantize_q4_1},
    {DType::kQ4_K, "Q4_K", 256, sizeof(BlockQ4_K), dequantize_q4_k},
    {DType::kQ6_K, "Q6_K", 256, sizeof(BlockQ6_K), dequantize_q6_k},
    {DType::kQ8, "q8", 32, sizeof(BlockQ8_0), dequantize_q8, quantize_q8, 0, true},
    {DType::kQ4G32, "q4g32", 32, q4g_block_bytes(32), dequantize_q4g<32>, quantize_q4g<32>, 0, true},
    {DType::kQ4G64, "q4g64", 64, q4g_block_bytes(64), dequantize_q4g<64>, quantize_q4g<64>, 0, true},
    {DType::kQ4G128, "q4g128", 128, q4g_block_bytes(128), dequantize_q4g<128>, quantize_q4g<128>, 0, true},
    {DType::kCB4, "cb4", kCb4Block, sizeof(BlockCb4), dequantize_cb4, quantize_cb4, kCb4HeaderBytes, true},
    {DType::kCB4S, "cb4s", kCb4sBlock, sizeof(BlockCb4s), dequantize_cb4s, quantize_cb4s, kCb4HeaderBytes, true},
    {DType::kT158, "t158", kT158Block, sizeof(BlockT158), dequantize_t158, quantize_t158, 0, true},
    {DType::kT158P, "t158p", kT158Block, sizeof(BlockT158P), dequantize_t158p, quantize_t158p, 0, true},
};
static_assert(sizeof(kCodecs) / sizeof(kCodecs[0]) == size_t(DType::kCount));

}  // namespace

const Codec& codec(DType t) {
  const size_t i = size_t(t);
  CHECK(i < size_t(DType::kCount));
  CHECK(kCodecs[i].dtype == t);
  return kCodecs[i];
}

std::string_view dtype_name(DType t) { return codec(t).name; }

std::optional<DType> dtype_from_name(std::string_view name) {
  for (const Codec& c : kCodecs)
    if (c.name == name) return c.dtype;
  return std::nullopt;
}

}  // namespace trapetum
