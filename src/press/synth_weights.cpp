// Deterministic random values for synthesized tensors: a counter-based hash per element
// (no sequential state, so any chunk can be made by any thread) and a cheap approximate normal.
#include <cmath>

#include "core/check.h"
#include "core/half.h"
#include "press/synth_internal.h"

namespace trapetum {
namespace {

constexpr float kWeightStd = 0.02f;
constexpr float kNormNoiseStd = 0.02f;
constexpr float kBiasStd = 0.01f;

// SplitMix64's finalizer: a bijective 64-bit mix.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// Irwin-Hall(4) on 16-bit uniforms: the sum of the four 16-bit parts of z, centred and scaled
// to unit variance. Close to normal (kurtosis 2.7, tails cut at 3.46 sigma), one hash per value,
// and 1/37837-sigma resolution, finer than f16 keeps.
inline float approx_normal(uint64_t z) {
  const uint32_t s = uint32_t(z & 0xffff) + uint32_t((z >> 16) & 0xffff) + uint32_t((z >> 32) & 0xffff) +
                     uint32_t(z >> 48);
  return (float(s) - 131070.0f) * (1.0f / 37837.22f);
}

// The HF row (or element) stored at index j when rows are in GGUF's interleaved RoPE order:
// within a head, stored row 2i+h is HF row h*(head_dim/2)+i.
inline int64_t hf_index(int64_t j, int64_t head_dim) {
  const int64_t w = j % head_dim;
  return j - w + (w & 1) * (head_dim / 2) + (w >> 1);
}

// Outlier columns: round(fraction * cols) columns scaled by 10..20. Keyed by the seed and the
// input size only, so every layer reading the hidden state shares the same heavy channels.
std::vector<float> outlier_scales(uint64_t seed, int64_t cols, double fraction) {
  std::vector<float> scale(size_t(cols), 1.0f);
  const int64_t k = std::llround(fraction * double(cols));
  std::vector<int64_t> idx(static_cast<size_t>(cols));
  for (int64_t i = 0; i < cols; ++i) idx[size_t(i)] = i;
  const uint64_t key = mix64(mix64(seed ^ 0x6f75746c69657273ull) ^ uint64_t(cols));
  for (int64_t i = 0; i < k; ++i) {  // partial Fisher-Yates: the first k of a random permutation
    const uint64_t r = mix64(key + uint64_t(i) * 0x9e3779b97f4a7c15ull);
    const int64_t j = i + int64_t(r % uint64_t(cols - i));
    std::swap(idx[size_t(i)], idx[size_t(j)]);
    scale[size_t(idx[size_t(i)])] = 10.0f + 10.0f * float(r >> 40) / float(1 << 24);
  }
  return scale;
}

inline uint16_t fp16_bits(float f) {
  uint32_t x = float_to_bits(f);
  const uint32_t sign = (x >> 16) & 0x8000u;
  x &= 0x7fffffffu;
  // Subnormal results: adding 0.5 lets the FPU round the mantissa into place (Giesen's trick).
  const uint32_t subnormal = float_to_bits(bits_to_float(x) + 0.5f) - 0x3f000000u;
  // Normal results: rebias the exponent and round to nearest even on the 13 dropped bits.
  const uint32_t normal = (x + 0xc8000fffu + ((x >> 13) & 1)) >> 13;
  uint32_t o = x < 0x38800000u ? subnormal : normal;
  o = x >= 0x47800000u ? (x > 0x7f800000u ? 0x7e00u : 0x7c00u) : o;
  return uint16_t(o | sign);
}

// The bytes must not depend on which clone runs: no fused multiply-adds (GCC's default in ISO
// C++ mode already; stated here so other flags cannot change it).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#endif

// x86-64 GCC: AVX-512 and AVX2 clones of the row loops, picked at load time (AVX-512 has the
// 64-bit multiply the hash needs: about 4x faster than the baseline loop).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define SYNTH_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SYNTH_CLONES
#endif

// out[c] = conv(add + mul * normal(row_key, c) * cs[c]) for c in [0, n); cs may be null.
// Branch-free bodies so the loops vectorize.
template <class T, class Conv>
inline void row_loop(uint64_t row_key, const float* cs, float mul, float add, int64_t n, T* out, Conv conv) {
  if (cs) {
    for (int64_t c = 0; c < n; ++c)
      out[c] = conv(add + mul * cs[c] * approx_normal(mix64(row_key + uint64_t(c) * 0x9e3779b97f4a7c15ull)));
  } else {
    for (int64_t c = 0; c < n; ++c)
      out[c] = conv(add + mul * approx_normal(mix64(row_key + uint64_t(c) * 0x9e3779b97f4a7c15ull)));
  }
}

SYNTH_CLONES void row_f32(uint64_t key, const float* cs, float mul, float add, int64_t n, float* out) {
  row_loop(key, cs, mul, add, n, out, [](float v) { return v; });
}
SYNTH_CLONES void row_f16(uint64_t key, const float* cs, float mul, float add, int64_t n, uint16_t* out) {
  row_loop(key, cs, mul, add, n, out, fp16_bits);
}
SYNTH_CLONES void row_bf16(uint64_t key, const float* cs, float mul, float add, int64_t n, uint16_t* out) {
  row_loop(key, cs, mul, add, n, out, [](float v) { return float_to_bf16(v); });
}

// One element in the tensor's dtype, for the rare paths (permuted biases, rope_freqs).
void store(DType t, void* row, int64_t c, float v) {
  if (t == DType::kF32) static_cast<float*>(row)[c] = v;
  else if (t == DType::kF16) static_cast<uint16_t*>(row)[c] = fp16_bits(v);
  else static_cast<uint16_t*>(row)[c] = float_to_bf16(v);
}

}  // namespace

uint16_t synth_fp16(float f) { return fp16_bits(f); }

std::vector<float> synth_rope_freqs(const SynthPreset& p) {
  const int head_dim = p.dim / p.n_heads;
  const RopeScaling& s = p.rope_scaling;
  const double low_wavelen = s.original_max_positions / s.low_freq_factor;
  const double high_wavelen = s.original_max_positions / s.high_freq_factor;
  std::vector<float> out;
  for (int i = 0; i < head_dim / 2; ++i) {
    const double freq = 1.0 / std::pow(p.rope_theta, double(2 * i) / double(head_dim));
    const double wavelen = 2.0 * M_PI / freq;
    if (wavelen < high_wavelen) {
      out.push_back(1.0f);
    } else if (wavelen > low_wavelen) {
      out.push_back(float(s.factor));
    } else {
      const double smooth = (s.original_max_positions / wavelen - s.low_freq_factor) /
                            (s.high_freq_factor - s.low_freq_factor);
      out.push_back(float(1.0 / ((1.0 - smooth) / s.factor + smooth)));
    }
  }
  return out;
}

SynthFill make_synth_fill(const SynthTensor& t, const SynthPlan& plan, const SynthOptions& o) {
  SynthFill f;
  f.tensor = &t;
  f.key = mix64(mix64(o.seed) ^ fnv1a(t.canonical));
  f.cols = t.shape.back();
  f.rows = t.shape.size() == 1 ? 1 : t.shape[0];
  CHECK(t.shape.size() <= 2);
  if (t.kind == SynthKind::kLinear && o.outlier_cols > 0) f.col_scale = outlier_scales(o.seed, f.cols, o.outlier_cols);
  if (t.kind == SynthKind::kRopeFreqs) {
    f.values = synth_rope_freqs(plan.preset);
    CHECK(int64_t(f.values.size()) == f.cols);
  }
  return f;
}

void synth_fill_rows(const SynthFill& f, int64_t row0, int64_t n, void* dst) {
  CHECK(row0 >= 0 && n >= 0 && row0 + n <= f.rows);
  const SynthTensor& t = *f.tensor;
  CHECK(t.dtype == DType::kF32 || t.dtype == DType::kF16 || t.dtype == DType::kBF16);
  const int64_t row_bytes = f.cols * codec(t.dtype).block_bytes;
  const bool one_d = t.shape.size() == 1;
  const int64_t head_dim = t.rope_heads > 0 ? (one_d ? f.cols : f.rows) / t.rope_heads : 0;
  const float* cs = f.col_scale.empty() ? nullptr : f.col_scale.data();
  float mul = kWeightStd, add = 0;
  if (t.kind == SynthKind::kNorm) mul = kNormNoiseStd, add = 1.0f;
  if (t.kind == SynthKind::kBias) mul = kBiasStd;
  for (int64_t r = row0; r < row0 + n; ++r) {
    void* out = static_cast<uint8_t*>(dst) + (r - row0) * row_bytes;
    if (t.kind == SynthKind::kRopeFreqs) {
      for (int64_t c = 0; c < f.cols; ++c) store(t.dtype, out, c, f.values[size_t(c)]);
      continue;
    }
    const int64_t hr = head_dim && !one_d ? hf_index(r, head_dim) : r;
    const uint64_t row_key = mix64(f.key ^ mix64(uint64_t(hr) + 0x632be59bd9b4e019ull));
    if (head_dim && one_d) {  // a bias in interleaved order: permute elements instead of rows
      for (int64_t c = 0; c < f.cols; ++c) {
        const uint64_t hc = uint64_t(hf_index(c, head_dim));
        store(t.dtype, out, c, add + mul * approx_normal(mix64(row_key + hc * 0x9e3779b97f4a7c15ull)));
      }
      continue;
    }
    switch (t.dtype) {
      case DType::kF32: row_f32(row_key, cs, mul, add, f.cols, static_cast<float*>(out)); break;
      case DType::kF16: row_f16(row_key, cs, mul, add, f.cols, static_cast<uint16_t*>(out)); break;
      default: row_bf16(row_key, cs, mul, add, f.cols, static_cast<uint16_t*>(out)); break;
    }
  }
}

}  // namespace trapetum
