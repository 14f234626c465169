// CPU attention: 16-lane dot products and accumulation over head_dim, f32 softmax.
#include "kernels/cpu/attention.h"

#include <cmath>

#include "kernels/cpu/simd_lanes.h"

namespace trapetum::cpu {
namespace {

TRAPETUM_INLINE void body(const float* q, const float* k, const float* v, int lo, int hi, int hd, float scale,
                          float* scores, float* out) {
  const bool lanes = hd % 16 == 0;
  float mx = -INFINITY;
  for (int p = lo; p <= hi; ++p) {
    const float* kp = k + int64_t(p) * hd;
    float dot;
    if (lanes) {
      F16x acc = {};
      for (int d = 0; d < hd; d += 16) acc += load16(q + d) * load16(kp + d);
      dot = hsum16(acc);
    } else {
      dot = 0;
      for (int d = 0; d < hd; ++d) dot += q[d] * kp[d];
    }
    const float s = dot * scale;
    scores[p - lo] = s;
    mx = s > mx ? s : mx;
  }
  float sum = 0;
  for (int i = 0; i <= hi - lo; ++i) {
    scores[i] = std::exp(scores[i] - mx);
    sum += scores[i];
  }
  const float inv = 1.0f / sum;
  for (int d = 0; d < hd; ++d) out[d] = 0;
  for (int p = lo; p <= hi; ++p) {
    const float* vp = v + int64_t(p) * hd;
    const float s = scores[p - lo] * inv;
    if (lanes) {
      for (int d = 0; d < hd; d += 16) {
        F16x o = load16(out + d) + load16(vp + d) * s;
        std::memcpy(out + d, &o, sizeof(o));
      }
    } else {
      for (int d = 0; d < hd; ++d) out[d] += s * vp[d];
    }
  }
}

__attribute__((target("avx512f,avx512vl,fma"))) void body_avx512(const float* q, const float* k, const float* v,
                                                                 int lo, int hi, int hd, float scale,
                                                                 float* scores, float* out) {
  body(q, k, v, lo, hi, hd, scale, scores, out);
}

__attribute__((target("avx2,fma"))) void body_avx2(const float* q, const float* k, const float* v, int lo, int hi,
                                                   int hd, float scale, float* scores, float* out) {
  body(q, k, v, lo, hi, hd, scale, scores, out);
}

}  // namespace

void attention_head(Isa isa, const float* q, const float* k, const float* v, int lo, int hi, int head_dim,
                    float scale, float* scores, float* out) {
  switch (isa) {
    case Isa::kAvx512: body_avx512(q, k, v, lo, hi, head_dim, scale, scores, out); break;
    case Isa::kAvx2: body_avx2(q, k, v, lo, hi, head_dim, scale, scores, out); break;
    default: body(q, k, v, lo, hi, head_dim, scale, scores, out); break;
  }
}

}  // namespace trapetum::cpu
