// Weighted 1-D k-means for the codebook codecs (cb4, cb4s), and nearest-centroid lookup in a
// sorted codebook of 16.
#pragma once

#include <vector>

namespace trapetum {

struct WeightedValue {
  float x;  // finite
  float w;  // > 0
};

// Fits k (1..16) centroids minimizing sum w * (x - c)^2 and writes them ascending. The start
// is the optimal clustering of the values merged into at most ~256 bins (exact dynamic
// programming), refined by Lloyd on the full data. Deterministic; reorders points (sorts
// them by x). No points: every centroid is 0.
void fit_centroids_1d(std::vector<WeightedValue>& points, int k, float* centroids);

// 16 sorted centroids with their midpoints, for nearest-centroid search.
struct Codebook16 {
  float c[16];     // ascending
  double mid[15];  // mid[i] = (c[i] + c[i + 1]) / 2, exact in double

  explicit Codebook16(const float* sorted) {
    for (int i = 0; i < 16; ++i) c[i] = sorted[i];
    for (int i = 0; i < 15; ++i) mid[i] = 0.5 * (double(c[i]) + double(c[i + 1]));
  }
  // Index of the centroid nearest x (ties to the lower one); NaN maps to 0. Branch-free
  // binary search: the comparisons are unpredictable.
  int nearest(float x) const {
    const double v = x;
    int k = int(v > mid[7]) << 3;
    k += int(v > mid[k + 3]) << 2;
    k += int(v > mid[k + 1]) << 1;
    return k + int(v > mid[k]);
  }
};

}  // namespace trapetum
