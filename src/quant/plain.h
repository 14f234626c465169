// Unquantized formats: f32, f16 and bf16 rows.
#pragma once

#include <cstdint>

namespace trapetum {

void dequantize_f32(const void* src, float* dst, int64_t n);
void dequantize_f16(const void* src, float* dst, int64_t n);
void dequantize_bf16(const void* src, float* dst, int64_t n);
// Rounding to nearest even; importance is ignored.
void quantize_f32(const float* src, void* dst, int64_t n, const float* importance);
void quantize_f16(const float* src, void* dst, int64_t n, const float* importance);
void quantize_bf16(const float* src, void* dst, int64_t n, const float* importance);

}  // namespace trapetum
