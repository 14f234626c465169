// Scalar reference ops.
#include "kernels/ref/ops.h"

#include <cmath>
#include <vector>

#include "quant/row.h"

namespace trapetum::ref {

void matmul(const TensorView& w, const float* x, float* y, int64_t m) {
  const int64_t n = w.rows(), k = w.cols();
  std::vector<float> row(static_cast<size_t>(k));
  for (int64_t r = 0; r < n; ++r) {
    dequantize_row(w, r, row.data());
    for (int64_t i = 0; i < m; ++i) {
      double acc = 0;
      for (int64_t j = 0; j < k; ++j) acc += double(row[size_t(j)]) * double(x[i * k + j]);
      y[i * n + r] = float(acc);
    }
  }
}

void rmsnorm(const float* x, const float* weight, float* y, int64_t n, float eps) {
  double ss = 0;
  for (int64_t i = 0; i < n; ++i) ss += double(x[i]) * double(x[i]);
  const float inv = float(1.0 / std::sqrt(ss / double(n) + double(eps)));
  for (int64_t i = 0; i < n; ++i) y[i] = weight[i] * (x[i] * inv);
}

void rope(float* x, int n_heads, int head_dim, int pos, const float* inv_freq, RopeLayout layout) {
  const int half = head_dim / 2;
  for (int h = 0; h < n_heads; ++h) {
    float* v = x + int64_t(h) * head_dim;
    for (int i = 0; i < half; ++i) {
      // The angle is formed in float32, as HF does, so positions far out round the same way.
      const float angle = float(pos) * inv_freq[i];
      const float c = float(std::cos(double(angle))), s = float(std::sin(double(angle)));
      const int a = layout == RopeLayout::kInterleaved ? 2 * i : i;
      const int b = layout == RopeLayout::kInterleaved ? 2 * i + 1 : i + half;
      const float x0 = v[a], x1 = v[b];
      v[a] = x0 * c - x1 * s;
      v[b] = x1 * c + x0 * s;
    }
  }
}

void swiglu(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

void softmax(float* x, int64_t n) {
  float mx = x[0];
  for (int64_t i = 1; i < n; ++i) mx = x[i] > mx ? x[i] : mx;
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = float(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

void attention_head(const float* q, const float* k, const float* v, int lo, int hi, int head_dim, float scale,
                    float* scores, float* out) {
  const int n = hi - lo + 1;
  for (int p = lo; p <= hi; ++p) {
    const float* kp = k + int64_t(p) * head_dim;
    double dot = 0;
    for (int d = 0; d < head_dim; ++d) dot += double(q[d]) * double(kp[d]);
    scores[p - lo] = float(dot) * scale;
  }
  softmax(scores, n);
  for (int d = 0; d < head_dim; ++d) out[d] = 0;
  for (int p = lo; p <= hi; ++p) {
    const float* vp = v + int64_t(p) * head_dim;
    const float s = scores[p - lo];
    for (int d = 0; d < head_dim; ++d) out[d] += s * vp[d];
  }
}

}  // namespace trapetum::ref
