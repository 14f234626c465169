// Unquantized formats: f32, f16 and bf16 rows.
#include "quant/plain.h"

#include <cstring>

#include "core/half.h"

namespace trapetum {

void dequantize_f32(const void* src, float* dst, int64_t n) { std::memcpy(dst, src, size_t(n) * 4); }

void dequantize_f16(const void* src, float* dst, int64_t n) {
  const auto* s = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = fp16_to_float(s[i]);
}

void dequantize_bf16(const void* src, float* dst, int64_t n) {
  const auto* s = static_cast<const uint16_t*>(src);
  for (int64_t i = 0; i < n; ++i) dst[i] = bf16_to_float(s[i]);
}

void quantize_f32(const float* src, void* dst, int64_t n, const float*) { std::memcpy(dst, src, size_t(n) * 4); }

void quantize_f16(const float* src, void* dst, int64_t n, const float*) {
  auto* d = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) d[i] = float_to_fp16(src[i]);
}

void quantize_bf16(const float* src, void* dst, int64_t n, const float*) {
  auto* d = static_cast<uint16_t*>(dst);
  for (int64_t i = 0; i < n; ++i) d[i] = float_to_bf16(src[i]);
}

}  // namespace trapetum
