// Unquantized formats: f32, f16 and bf16 rows.
#pragma once

#include <cstdint>

namespace trapetum {

void dequantize_f32(const void* src, float* dst, int64_t n);
void dequantize_f16(const void* src, float* dst, int64_t n);
void dequantize_bf16(const void* src, float* dst, int64_t n);

}  // namespace trapetum
