// CPU attention: K and V rows decoded to f32 a chunk at a time (f32 rows are read in place),
// register-wide dot products and accumulation over head_dim, the vectorized softmax between.
#include "kernels/cpu/attention.h"

#include <algorithm>

#include "kernels/cpu/kv_convert.h"
#include "kernels/cpu/softmax.h"
#include "kernels/cpu/vec_math.h"

namespace trapetum::cpu {
namespace {

// Rows [p0, p0 + m) of one cache as floats: in place for f32, else decoded into buf.
const float* rows_f32(Isa isa, const void* base, KvType type, int p0, int m, int hd, float* buf) {
  const char* p = static_cast<const char*>(base) + int64_t(p0) * kv_row_bytes(type, hd);
  if (type == KvType::kF32) return reinterpret_cast<const float*>(p);
  kv_decode_rows(isa, type, p, m, hd, buf);
  return buf;
}

// scores (m) = scale * q . rows[j] (rows (m, hd)).
template <int N>
TRAPETUM_INLINE void dots(const float* q, const float* rows, int m, int hd, float scale, float* scores) {
  if (hd % N == 0) {
    for (int j = 0; j < m; ++j) {
      const float* r = rows + int64_t(j) * hd;
      typename Vec<N>::F acc = vload<N>(q) * vload<N>(r);
      for (int d = N; d < hd; d += N) acc += vload<N>(q + d) * vload<N>(r + d);
      scores[j] = vsum<N>(acc) * scale;
    }
  } else {
    for (int j = 0; j < m; ++j) {
      const float* r = rows + int64_t(j) * hd;
      float dot = 0;
      for (int d = 0; d < hd; ++d) dot += q[d] * r[d];
      scores[j] = dot * scale;
    }
  }
}

// out (hd) += sum_j w[j] * rows[j]; one accumulator per slice of head_dim stays in a
// register across the positions.
template <int N>
TRAPETUM_INLINE void accumulate(const float* w, const float* rows, int m, int hd, float* out) {
  if (hd % N == 0) {
    for (int d = 0; d < hd; d += N) {
      typename Vec<N>::F acc = vload<N>(out + d);
      for (int j = 0; j < m; ++j) acc += vload<N>(rows + int64_t(j) * hd + d) * w[j];
      vstore<N>(out + d, acc);
    }
  } else {
    for (int j = 0; j < m; ++j)
      for (int d = 0; d < hd; ++d) out[d] += w[j] * rows[int64_t(j) * hd + d];
  }
}

template <int N>
TRAPETUM_INLINE void body(Isa isa, const float* q, int group, const KvHeadRows& kv, int lo, int hi, int hd,
                          float scale, float* scratch, float* out) {
  const int n = hi - lo + 1;
  float* scores = scratch;                         // (group, n)
  float* buf = scratch + int64_t(group) * n;       // (kAttentionChunk, hd) decoded rows
  for (int p0 = lo; p0 <= hi; p0 += kAttentionChunk) {
    const int m = std::min(kAttentionChunk, hi + 1 - p0);
    const float* k = rows_f32(isa, kv.k, kv.type, p0, m, hd, buf);
    for (int g = 0; g < group; ++g) dots<N>(q + int64_t(g) * hd, k, m, hd, scale, scores + int64_t(g) * n + (p0 - lo));
  }
  for (int g = 0; g < group; ++g) softmax(isa, scores + int64_t(g) * n, n);
  std::fill(out, out + int64_t(group) * hd, 0.0f);
  for (int p0 = lo; p0 <= hi; p0 += kAttentionChunk) {
    const int m = std::min(kAttentionChunk, hi + 1 - p0);
    const float* v = rows_f32(isa, kv.v, kv.type, p0, m, hd, buf);
    for (int g = 0; g < group; ++g) accumulate<N>(scores + int64_t(g) * n + (p0 - lo), v, m, hd, out + int64_t(g) * hd);
  }
}

TRAPETUM_TARGET_AVX512 void body_avx512(const float* q, int group, const KvHeadRows& kv, int lo, int hi, int hd,
                                        float scale, float* scratch, float* out) {
  body<kLanesAvx512>(Isa::kAvx512, q, group, kv, lo, hi, hd, scale, scratch, out);
}

TRAPETUM_TARGET_AVX2 void body_avx2(const float* q, int group, const KvHeadRows& kv, int lo, int hi, int hd,
                                    float scale, float* scratch, float* out) {
  body<kLanesAvx2>(Isa::kAvx2, q, group, kv, lo, hi, hd, scale, scratch, out);
}

}  // namespace

void attention_group(Isa isa, const float* q, int group, const KvHeadRows& kv, int lo, int hi, int head_dim,
                     float scale, float* scratch, float* out) {
  switch (isa) {
    case Isa::kAvx512: body_avx512(q, group, kv, lo, hi, head_dim, scale, scratch, out); break;
    case Isa::kAvx2: body_avx2(q, group, kv, lo, hi, head_dim, scale, scratch, out); break;
    default: body<kLanesGeneric>(isa, q, group, kv, lo, hi, head_dim, scale, scratch, out); break;
  }
}

}  // namespace trapetum::cpu
