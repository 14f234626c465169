// Weighted 1-D k-means: optimal clustering of binned values by dynamic programming, then Lloyd
// refinement. Lloyd alone from quantiles stalls far from the optimum on heavy tails.
#include "quant/kmeans1d.h"

#include <algorithm>
#include <cmath>

#include "core/check.h"

namespace trapetum {
namespace {

constexpr int kMaxBins = 256;   // resolution of the dynamic-programming start
constexpr int kMaxLloyd = 64;   // Lloyd iterations after it (it usually converges in a few)

// Prefix sums over sorted values of w, w * x and w * x^2, with x centered on the mean so
// that the variance formula below loses little to cancellation.
struct Moments {
  double w = 0, x = 0, xx = 0;
};

// Weighted squared error of the values between prefix sums a and b around their mean.
double sse(const Moments& a, const Moments& b) {
  const double w = b.w - a.w;
  if (!(w > 0)) return 0.0;
  const double x = b.x - a.x;
  return std::max(0.0, b.xx - a.xx - x * x / w);
}

// One layer of the clustering DP over bin edges: cur[i] = min over j <= i of prev[j] +
// sse(j, i). The best j is monotone in i for 1-D k-means, so divide and conquer needs only
// O(m log m) evaluations.
struct DpLayer {
  const std::vector<Moments>& edges;
  const std::vector<double>& prev;
  std::vector<double>& cur;
  int* arg;

  void solve(int lo, int hi, int opt_lo, int opt_hi) {
    if (lo > hi) return;
    const int mid = (lo + hi) / 2;
    double best = INFINITY;
    int best_j = opt_lo;
    for (int j = opt_lo; j <= std::min(mid, opt_hi); ++j) {
      const double v = prev[j] + sse(edges[j], edges[mid]);
      if (v < best) best = v, best_j = j;
    }
    cur[mid] = best;
    arg[mid] = best_j;
    solve(lo, mid - 1, opt_lo, best_j);
    solve(mid + 1, hi, best_j, opt_hi);
  }
};

// Cluster boundaries (indices into the sorted points, bounds[0] = 0, bounds[k] = n) of the
// optimal k-clustering of the points merged into bins: a bin closes when it holds n / 128
// points or spans 1/128 of the range, so tails get bins of single points.
void dp_start(const std::vector<WeightedValue>& p, const std::vector<Moments>& pre, int k,
              int* bounds) {
  const int n = int(p.size()), half = kMaxBins / 2;
  const int max_count = (n + half - 1) / half;
  const double max_width = (double(p[n - 1].x) - double(p[0].x)) / half;
  std::vector<int> edge{0};
  for (int i = 1; i < n; ++i)
    if (i - edge.back() >= max_count || double(p[i].x) - double(p[edge.back()].x) > max_width)
      edge.push_back(i);
  edge.push_back(n);
  const int m = int(edge.size()) - 1;
  std::vector<Moments> at(m + 1);
  for (int i = 0; i <= m; ++i) at[i] = pre[edge[i]];
  std::vector<double> prev(m + 1), cur(m + 1);
  std::vector<int> arg(size_t(k) * (m + 1), 0);  // (k, m + 1): best split per layer and edge
  for (int i = 0; i <= m; ++i) prev[i] = sse(at[0], at[i]);
  for (int layer = 1; layer < k; ++layer) {
    DpLayer{at, prev, cur, &arg[size_t(layer) * (m + 1)]}.solve(0, m, 0, m);
    std::swap(prev, cur);
  }
  int i = m;
  bounds[k] = n;
  for (int layer = k - 1; layer >= 1; --layer) {
    i = arg[size_t(layer) * (m + 1) + i];
    bounds[layer] = edge[i];
  }
  bounds[0] = 0;
}

}  // namespace

void fit_centroids_1d(std::vector<WeightedValue>& p, int k, float* c) {
  CHECK(k >= 1 && k <= 16);
  const int n = int(p.size());
  if (n == 0) {
    std::fill(c, c + k, 0.0f);
    return;
  }
  std::sort(p.begin(), p.end(), [](const WeightedValue& a, const WeightedValue& b) { return a.x < b.x; });
  double sw = 0, sx = 0;
  for (const WeightedValue& v : p) sw += v.w, sx += double(v.w) * v.x;
  const double mean = sx / sw;
  std::vector<Moments> pre(n + 1);
  for (int i = 0; i < n; ++i) {
    const double d = double(p[i].x) - mean, w = p[i].w;
    pre[i + 1] = {pre[i].w + w, pre[i].x + w * d, pre[i].xx + w * d * d};
  }
  auto centroid = [&](int lo, int hi) { return float(mean + (pre[hi].x - pre[lo].x) / (pre[hi].w - pre[lo].w)); };

  int b[17], prev_b[17];
  dp_start(p, pre, k, b);
  for (int i = 0; i < k; ++i) c[i] = pre[b[i + 1]].w > pre[b[i]].w ? centroid(b[i], b[i + 1]) : p[std::min(b[i], n - 1)].x;
  std::sort(c, c + k);
  std::fill(prev_b, prev_b + 17, -1);
  for (int it = 0; it < kMaxLloyd; ++it) {
    for (int i = 1; i < k; ++i) {
      const float mid = 0.5f * (c[i - 1] + c[i]);
      b[i] = int(std::upper_bound(p.begin() + b[i - 1], p.end(), mid,
                                  [](float v, const WeightedValue& q) { return v < q.x; }) - p.begin());
    }
    if (std::equal(b, b + k + 1, prev_b)) break;
    std::copy(b, b + k + 1, prev_b);
    double err[16];
    bool empty[16], any_empty = false;
    for (int i = 0; i < k; ++i) {
      empty[i] = !(pre[b[i + 1]].w > pre[b[i]].w);
      err[i] = sse(pre[b[i]], pre[b[i + 1]]);
      if (empty[i]) any_empty = true;
      else c[i] = centroid(b[i], b[i + 1]);
    }
    if (!any_empty) continue;
    // An empty cluster moves to the far end of the cluster with the largest error.
    for (int i = 0; i < k; ++i) {
      if (!empty[i]) continue;
      const int j = int(std::max_element(err, err + k) - err);
      if (!(err[j] > 0)) break;
      const float lo = p[b[j]].x, hi = p[b[j + 1] - 1].x;
      c[i] = c[j] - lo > hi - c[j] ? lo : hi;
      err[j] = 0;
    }
    std::sort(c, c + k);
    std::fill(prev_b, prev_b + 17, -1);
  }
}

}  // namespace trapetum
