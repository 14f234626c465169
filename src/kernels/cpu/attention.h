// CPU attention of the query heads that share one KV head, over a contiguous range of
// cached positions whose rows may be f32, f16 or q8 (decoded a chunk at a time).
#pragma once

#include <cstdint>

#include "kernels/cpu/cpu_features.h"
#include "kernels/kv_type.h"

namespace trapetum::cpu {

// One KV head's cache: row p (kv_row_bytes(type, head_dim) bytes) of k and of v starts
// p * kv_row_bytes bytes after position 0.
struct KvHeadRows {
  const void* k;
  const void* v;
  KvType type;
};

// Positions decoded per step of the attention loops.
inline constexpr int kAttentionChunk = 64;

// Scratch floats attention_group needs for n_pos positions.
inline int64_t attention_scratch_floats(int group, int n_pos, int head_dim) {
  return int64_t(group) * n_pos + int64_t(kAttentionChunk) * head_dim;
}

// For each of the group query heads g: out[g] (head_dim) = softmax(scale * q[g] . k[p],
// p in [lo, hi]) . v[p]. q and out are (group, head_dim); each K and V row is decoded once
// for the whole group. scratch: attention_scratch_floats(group, hi - lo + 1, head_dim) floats.
void attention_group(Isa isa, const float* q, int group, const KvHeadRows& kv, int lo, int hi, int head_dim,
                     float scale, float* scratch, float* out);

}  // namespace trapetum::cpu
