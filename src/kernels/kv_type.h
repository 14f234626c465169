// KvType: the element type of the KV cache, chosen per session, and the byte layout of one
// cached row (one position of one KV head: head_dim values) for each type.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace trapetum {

// kF32: exact (the row is head_dim floats).
// kF16: IEEE binary16, round to nearest even (head_dim uint16); relative error <= 2^-11 for
//       |x| in [6.1e-5, 65504], larger values become inf (activations stay far below).
// kQ8:  head_dim values in ceil(head_dim / 32) KvQ8Blocks of 32 (the last one zero-padded);
//       block b holds x[32b + i] ~= d * q[i] with d = max|x| / 127 over the block and
//       q = round(x / d) in [-127, 127] (all zero when the block is all zero). Absolute error
//       <= d / 2 = max|x| / 254 per value, so each 32-value block keeps ~7 bits relative to
//       its own largest value; 36 bytes per 32 values (9 bits per value).
enum class KvType { kF32, kF16, kQ8 };

inline constexpr int kKvQ8BlockValues = 32;

// One q8 block. A float scale (not fp16) keeps the block error at the int8 rounding alone;
// 36 bytes keep every scale 4-byte aligned within a row.
struct KvQ8Block {
  float d;
  int8_t q[kKvQ8BlockValues];
};
static_assert(sizeof(KvQ8Block) == 36);

// Bytes of one cached row of head_dim values.
inline int64_t kv_row_bytes(KvType t, int head_dim) {
  switch (t) {
    case KvType::kF16: return int64_t(head_dim) * 2;
    case KvType::kQ8: return int64_t(head_dim + kKvQ8BlockValues - 1) / kKvQ8BlockValues * int64_t(sizeof(KvQ8Block));
    default: return int64_t(head_dim) * 4;
  }
}

inline const char* kv_type_name(KvType t) {
  switch (t) {
    case KvType::kF16: return "f16";
    case KvType::kQ8: return "q8";
    default: return "f32";
  }
}

inline std::optional<KvType> kv_type_from_name(std::string_view name) {
  for (KvType t : {KvType::kF32, KvType::kF16, KvType::kQ8})
    if (name == kv_type_name(t)) return t;
  return std::nullopt;
}

}  // namespace trapetum
