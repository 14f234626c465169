// Reference encoding and decoding of one KV cache row (one position of one KV head) in each
// KvType: the specification the CPU conversions are tested against.
#pragma once

#include "kernels/kv_type.h"

namespace trapetum::ref {

// dst (kv_row_bytes(type, head_dim) bytes) = x (head_dim) in type's layout (kv_type.h).
void kv_encode_row(KvType type, const float* x, int head_dim, void* dst);

// dst (head_dim) = the values of one row src in type's layout.
void kv_decode_row(KvType type, const void* src, int head_dim, float* dst);

}  // namespace trapetum::ref
