// Kernel benchmark: matrices built from a few really quantized random rows tiled to full
// size (quantizing 131M weights per codec would dominate the run), timed through the
// backend's matmul, checked on the seed rows against dequantize-then-float64.
#include "runtime/bench_kernels.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "core/half.h"
#include "core/timer.h"
#include "kernels/cpu/gemm_int8.h"
#include "quant/row.h"
#include "runtime/bench.h"

namespace trapetum {
namespace {

constexpr int64_t kSeedRows = kBenchSeedRows;

// fp16 scale fields of the GGUF blocks that trapetum reads but does not write.
std::vector<int64_t> gguf_half_fields(DType d) {
  switch (d) {
    case DType::kQ4_0:
    case DType::kQ8_0: return {0};
    case DType::kQ4_1:
    case DType::kQ4_K: return {0, 2};
    case DType::kQ6_K: return {208};
    default: return {};
  }
}

// kSeedRows rows of `cols` weights ~ N(0, 0.02) packed in d.
std::vector<uint8_t> seed_rows(DType d, int64_t cols, std::mt19937& rng) {
  const Codec& c = codec(d);
  const int64_t rb = c.row_bytes(cols);
  std::vector<uint8_t> out(size_t(kSeedRows * rb));
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::vector<float> row(static_cast<size_t>(cols));
  for (int64_t r = 0; r < kSeedRows; ++r) {
    for (float& v : row) v = normal(rng);
    uint8_t* dst = out.data() + r * rb;
    if (c.quantize) {
      c.quantize(row.data(), dst, cols, nullptr);
    } else if (d == DType::kF32) {
      std::memcpy(dst, row.data(), size_t(cols) * 4);
    } else if (d == DType::kF16 || d == DType::kBF16) {
      for (int64_t j = 0; j < cols; ++j) {
        const uint16_t h = d == DType::kF16 ? float_to_fp16(row[size_t(j)]) : float_to_bf16(row[size_t(j)]);
        std::memcpy(dst + 2 * j, &h, 2);
      }
    } else {  // GGUF blocks: random codes, scales of a plausible size
      for (int64_t i = 0; i < rb; ++i) dst[i] = uint8_t(rng());
      for (int64_t b = 0; b < rb / c.block_bytes; ++b)
        for (int64_t off : gguf_half_fields(d)) {
          const uint16_t h = float_to_fp16(0.002f + 0.001f * float(b % 5));
          std::memcpy(dst + b * c.block_bytes + off, &h, 2);
        }
    }
  }
  return out;
}

double max_rel_error(const TensorView& w, const std::vector<float>& x, const std::vector<float>& y, int m,
                     int64_t rows_checked) {
  const int64_t n = w.rows(), k = w.cols();
  std::vector<float> row(static_cast<size_t>(k));
  double max_err = 0, max_ref = 0;
  for (int64_t r = 0; r < rows_checked; ++r) {
    dequantize_row(w, r, row.data());
    for (int i = 0; i < std::min(m, 8); ++i) {
      double s = 0;
      for (int64_t j = 0; j < k; ++j) s += double(row[size_t(j)]) * double(x[size_t(i * k + j)]);
      max_err = std::max(max_err, std::fabs(double(y[size_t(i * n + r)]) - s));
      max_ref = std::max(max_ref, std::fabs(s));
    }
  }
  return max_ref > 0 ? max_err / max_ref : max_err;
}

}  // namespace

std::vector<uint8_t> bench_seed_rows(DType d, int64_t cols, std::mt19937& rng) { return seed_rows(d, cols, rng); }

double bench_max_rel_error(const TensorView& w, const std::vector<float>& x, const std::vector<float>& y, int m,
                           int64_t rows_checked) {
  return max_rel_error(w, x, y, m, rows_checked);
}

std::vector<DType> all_kernel_codecs() {
  std::vector<DType> v;
  for (int t = 0; t < int(DType::kCount); ++t) v.push_back(DType(t));
  return v;
}

Result<std::vector<KernelBenchRow>> run_kernel_bench(const KernelBenchOptions& o,
                                                     const std::function<CpuBackend&(cpu::ActMode)>& backend_for,
                                                     const std::function<void(const KernelBenchRow&)>& progress) {
  std::vector<KernelBenchRow> out;
  std::mt19937 rng(uint32_t(o.seed));
  for (const KernelShape& s : o.shapes) {
    for (DType d : o.codecs) {
      const Codec& c = codec(d);
      const int64_t rb = c.row_bytes(s.cols);
      if (rb < 0) return make_error("bench kernels: ", c.name, " cannot hold rows of ", s.cols, " elements");
      const auto seed = seed_rows(d, s.cols, rng);
      std::vector<uint8_t> packed(size_t(s.rows * rb));
      for (int64_t r = 0; r < s.rows; ++r)
        std::memcpy(packed.data() + r * rb, seed.data() + (r % kSeedRows) * rb, size_t(rb));
      TensorView w;
      w.dtype = d;
      w.shape = {s.rows, s.cols};
      w.data = packed.data();
      const cpu::Isa isa = backend_for(cpu::ActMode::kFloat).isa();
      const bool gemv_int8 = cpu::gemv_table(isa).int8[int(d)] != nullptr, gemm_int8 = cpu::has_gemm_int8(isa, d);
      for (int m : o.tokens) {
        std::normal_distribution<float> normal(0.0f, 1.0f);
        std::vector<float> x(size_t(int64_t(m) * s.cols));
        for (float& v : x) v = normal(rng);
        std::vector<cpu::ActMode> acts = {cpu::ActMode::kFloat};
        if (backend_for(cpu::ActMode::kInt8).uses_gemv(d, m) ? gemv_int8 : gemm_int8) acts.push_back(cpu::ActMode::kInt8);
        for (cpu::ActMode act : acts) {
          CpuBackend& b = backend_for(act);
          std::vector<float> y(size_t(int64_t(m) * s.rows), std::numeric_limits<float>::quiet_NaN());
          b.matmul(w, x.data(), y.data(), m);  // warm-up; also the output that is checked
          const double err = max_rel_error(w, x, y, m, std::min(kSeedRows, s.rows));
          std::vector<double> times;
          for (int rep = 0; rep < o.reps; ++rep) {
            Timer t;
            b.matmul(w, x.data(), y.data(), m);
            times.push_back(t.seconds());
          }
          const double sec = spread_of(times).median;
          KernelBenchRow row{d, s, m, act, sec, double(packed.size()), double(packed.size()) / sec / 1e9,
                             2.0 * m * double(s.rows) * double(s.cols) / sec / 1e9, err};
          out.push_back(row);
          if (progress) progress(row);
        }
      }
    }
  }
  return out;
}

}  // namespace trapetum
