// press_tensor: row-parallel quantization with per-row error and outlier selection.
#include "press/quantize_tensor.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/half.h"
#include "core/thread_pool.h"
#include "io/cbk_index.h"
#include "quant/row.h"

namespace trapetum {
namespace {

constexpr int64_t kRowsPerTask = 8;

struct RowScratch {
  std::vector<float> w, deq, work, importance;
  std::vector<int64_t> order;
};

// Quantizes row r into dst; fills the row's outliers (ascending columns) and its squared error.
void press_row(const TensorView& src, const Codec& c, int64_t r, int64_t n_outliers, uint8_t* dst,
               RowScratch& s, std::vector<uint32_t>& cols, std::vector<uint16_t>& vals, double* sq_err,
               double* sq_norm) {
  const int64_t k = src.cols();
  dequantize_row(src, r, s.w.data());
  c.quantize(s.w.data(), dst, k, nullptr);
  c.dequantize(dst, s.deq.data(), k);
  cols.clear();
  vals.clear();
  if (n_outliers > 0) {
    std::iota(s.order.begin(), s.order.end(), 0);
    auto bigger = [&](int64_t a, int64_t b) {
      const float ea = std::fabs(s.w[size_t(a)] - s.deq[size_t(a)]), eb = std::fabs(s.w[size_t(b)] - s.deq[size_t(b)]);
      return ea != eb ? ea > eb : a < b;  // ties by column keep the choice deterministic
    };
    std::nth_element(s.order.begin(), s.order.begin() + n_outliers, s.order.end(), bigger);
    std::sort(s.order.begin(), s.order.begin() + n_outliers);
    s.work = s.w;
    std::fill(s.importance.begin(), s.importance.end(), 1.0f);
    for (int64_t i = 0; i < n_outliers; ++i) {
      s.work[size_t(s.order[size_t(i)])] = 0.0f;
      s.importance[size_t(s.order[size_t(i)])] = 0.0f;
    }
    c.quantize(s.work.data(), dst, k, s.importance.data());
    c.dequantize(dst, s.deq.data(), k);
    for (int64_t i = 0; i < n_outliers; ++i) {
      const int64_t j = s.order[size_t(i)];
      const uint16_t v = float_to_fp16(s.w[size_t(j)] - s.deq[size_t(j)]);
      cols.push_back(uint32_t(j));
      vals.push_back(v);
      s.deq[size_t(j)] += fp16_to_float(v);
    }
  }
  double e = 0, nrm = 0;
  for (int64_t j = 0; j < k; ++j) {
    const double d = double(s.w[size_t(j)]) - double(s.deq[size_t(j)]);
    e += d * d;
    nrm += double(s.w[size_t(j)]) * double(s.w[size_t(j)]);
  }
  *sq_err = e;
  *sq_norm = nrm;
}

}  // namespace

uint64_t PressedTensor::stored_bytes() const {
  uint64_t rows = 1;
  for (size_t i = 0; i + 1 < shape.size(); ++i) rows *= uint64_t(shape[i]);
  return data.size() + (outliers.nnz() ? cbk_outliers_bytes(rows, uint64_t(outliers.nnz())) : 0);
}

double PressedTensor::bits_per_weight() const {
  double n = 1;
  for (int64_t d : shape) n *= double(d);
  return 8.0 * double(stored_bytes()) / n;
}

PressedTensor press_tensor(const TensorView& src, DType dtype, double outlier_fraction, ThreadPool& pool) {
  const Codec& c = codec(dtype);
  const int64_t rows = src.rows(), k = src.cols(), rb = c.row_bytes(k);
  PressedTensor out;
  out.dtype = dtype;
  out.shape = src.shape;
  out.data.resize(size_t(rows * rb));
  const int64_t n_outliers =
      outlier_fraction > 0 ? std::min<int64_t>(k, int64_t(std::ceil(outlier_fraction * double(k)))) : 0;
  std::vector<RowScratch> scratch(size_t(pool.size()));
  for (RowScratch& s : scratch) {
    s.w.resize(size_t(k));
    s.deq.resize(size_t(k));
    s.importance.resize(size_t(k));
    s.order.resize(size_t(k));
  }
  std::vector<double> row_err(static_cast<size_t>(rows)), row_norm(static_cast<size_t>(rows));
  std::vector<std::vector<uint32_t>> row_cols(n_outliers ? size_t(rows) : 0);
  std::vector<std::vector<uint16_t>> row_vals(n_outliers ? size_t(rows) : 0);
  const int64_t n_tasks = (rows + kRowsPerTask - 1) / kRowsPerTask;
  pool.parallel_for(n_tasks, [&](int64_t task, int thread) {
    std::vector<uint32_t> cols;
    std::vector<uint16_t> vals;
    for (int64_t r = task * kRowsPerTask; r < std::min(rows, (task + 1) * kRowsPerTask); ++r) {
      press_row(src, c, r, n_outliers, out.data.data() + r * rb, scratch[size_t(thread)], cols, vals,
                &row_err[size_t(r)], &row_norm[size_t(r)]);
      if (n_outliers) {
        row_cols[size_t(r)] = cols;
        row_vals[size_t(r)] = vals;
      }
    }
  });
  for (int64_t r = 0; r < rows; ++r) {  // summed in row order: identical for any thread count
    out.sq_error += row_err[size_t(r)];
    out.sq_norm += row_norm[size_t(r)];
  }
  if (n_outliers) {
    out.outliers.row_ptr.push_back(0);
    for (int64_t r = 0; r < rows; ++r) {
      out.outliers.cols.insert(out.outliers.cols.end(), row_cols[size_t(r)].begin(), row_cols[size_t(r)].end());
      out.outliers.vals.insert(out.outliers.vals.end(), row_vals[size_t(r)].begin(), row_vals[size_t(r)].end());
      out.outliers.row_ptr.push_back(uint32_t(out.outliers.cols.size()));
    }
  }
  return out;
}

}  // namespace trapetum
