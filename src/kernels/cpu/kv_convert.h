// CPU conversions between float rows and the KV cache's element types (kv_type.h): F16C on
// AVX2/AVX-512, vector-extension code elsewhere. Results equal ref/kv_rows bit for bit.
#pragma once

#include "kernels/cpu/cpu_features.h"
#include "kernels/kv_type.h"

namespace trapetum::cpu {

// dst (kv_row_bytes(type, head_dim) bytes) = x (head_dim) encoded as type.
void kv_encode_row(Isa isa, KvType type, const float* x, int head_dim, void* dst);

// dst (n_rows, head_dim) = the n_rows consecutive rows at src, decoded.
void kv_decode_rows(Isa isa, KvType type, const void* src, int n_rows, int head_dim, float* dst);

}  // namespace trapetum::cpu
