// Reference KV row codecs: f32 copies, f16 rounds to nearest even, q8 per 32-value block.
#include "kernels/ref/kv_rows.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/half.h"

namespace trapetum::ref {

void kv_encode_row(KvType type, const float* x, int head_dim, void* dst) {
  switch (type) {
    case KvType::kF32: std::memcpy(dst, x, size_t(head_dim) * 4); return;
    case KvType::kF16: {
      auto* h = static_cast<uint16_t*>(dst);
      for (int i = 0; i < head_dim; ++i) h[i] = float_to_fp16(x[i]);
      return;
    }
    case KvType::kQ8: {
      auto* blocks = static_cast<KvQ8Block*>(dst);
      for (int b = 0; b * kKvQ8BlockValues < head_dim; ++b) {
        const float* xb = x + b * kKvQ8BlockValues;
        const int n = std::min(kKvQ8BlockValues, head_dim - b * kKvQ8BlockValues);
        float amax = 0;
        for (int i = 0; i < n; ++i) amax = std::max(amax, std::fabs(xb[i]));
        KvQ8Block& blk = blocks[b];
        blk.d = amax / 127.0f;
        const float id = blk.d > 0 ? 1.0f / blk.d : 0.0f;
        for (int i = 0; i < kKvQ8BlockValues; ++i)
          blk.q[i] = i < n ? int8_t(std::clamp(std::nearbyint(xb[i] * id), -127.0f, 127.0f)) : int8_t(0);
      }
      return;
    }
  }
}

void kv_decode_row(KvType type, const void* src, int head_dim, float* dst) {
  switch (type) {
    case KvType::kF32: std::memcpy(dst, src, size_t(head_dim) * 4); return;
    case KvType::kF16: {
      const auto* h = static_cast<const uint16_t*>(src);
      for (int i = 0; i < head_dim; ++i) dst[i] = fp16_to_float(h[i]);
      return;
    }
    case KvType::kQ8: {
      const auto* blocks = static_cast<const KvQ8Block*>(src);
      for (int i = 0; i < head_dim; ++i) {
        const KvQ8Block& blk = blocks[i / kKvQ8BlockValues];
        dst[i] = float(blk.q[i % kKvQ8BlockValues]) * blk.d;
      }
      return;
    }
  }
}

}  // namespace trapetum::ref
