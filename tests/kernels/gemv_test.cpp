// Fused GEMV kernels (every codec, every ISA this CPU runs, float and int8 activations)
// against the float64 reference on fresh random inputs of awkward shapes, outputs poisoned.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "backend/cpu_backend.h"
#include "common/test_util.h"
#include "core/half.h"
#include "kernels/cpu/gemm_int8.h"
#include "kernels/cpu/gemv.h"
#include "quant/lowbit.h"
#include "quant/row.h"

namespace trapetum {
namespace {

struct Case {
  DType dtype;
  int64_t rows, cols;
};

// Every codec on shapes that leave partial blocks (where the codec allows them), K = 1,
// single rows, and rows long enough to run the unrolled loops many times.
std::vector<Case> cases() {
  std::vector<Case> v;
  for (int t = 0; t < int(DType::kCount); ++t) {
    const DType d = DType(t);
    const Codec& c = codec(d);
    const int64_t b = c.block_elems;
    if (c.pads_tail || b == 1) {
      for (int64_t k : {int64_t(1), int64_t(31), int64_t(33), int64_t(203), int64_t(1000)}) v.push_back({d, 7, k});
      v.push_back({d, 1, 2048});
    } else {
      for (int64_t nb : {1, 2, 3, 9}) v.push_back({d, 5, b * nb});
      v.push_back({d, 1, b * 16});
    }
  }
  return v;
}

// Reference y = W x in float64 from the reference dequantizer (outliers included).
std::vector<double> reference(const TensorView& w, const std::vector<float>& x, int m) {
  const int64_t n = w.rows(), k = w.cols();
  std::vector<double> y(size_t(m * n));
  std::vector<float> row(static_cast<size_t>(k));
  for (int64_t r = 0; r < n; ++r) {
    dequantize_row(w, r, row.data());
    for (int i = 0; i < m; ++i) {
      double s = 0;
      for (int64_t j = 0; j < k; ++j) s += double(row[size_t(j)]) * x[size_t(i * k + j)];
      y[size_t(i * n + r)] = s;
    }
  }
  return y;
}

// sum_j W_j |x_j| per output, W_j the largest |w| of j's codec block: the scale of float
// rounding in the dot product, offset terms (a block's min, Q4_0's -8) included.
std::vector<double> magnitude(const TensorView& w, const std::vector<float>& x, int m) {
  std::vector<float> ax(x.size());
  for (size_t i = 0; i < x.size(); ++i) ax[i] = std::fabs(x[i]);
  const int64_t n = w.rows(), k = w.cols(), blk = codec(w.dtype).block_elems;
  std::vector<double> y(size_t(m * n));
  std::vector<float> row(static_cast<size_t>(k));
  for (int64_t r = 0; r < n; ++r) {
    dequantize_row(w, r, row.data());
    for (int64_t b = 0; b < k; b += blk) {
      float mx = 0;
      for (int64_t j = b; j < std::min(k, b + blk); ++j) mx = std::max(mx, std::fabs(row[size_t(j)]));
      for (int64_t j = b; j < std::min(k, b + blk); ++j) row[size_t(j)] = mx;
    }
    for (int i = 0; i < m; ++i) {
      double s = 0;
      for (int64_t j = 0; j < k; ++j) s += std::fabs(double(row[size_t(j)])) * ax[size_t(i * k + j)];
      y[size_t(i * n + r)] = s;
    }
  }
  return y;
}

std::vector<float> run(const cpu::GemvTable& t, cpu::ActMode mode, const TensorView& w, const std::vector<float>& x,
                       int m, cpu::GemvInput& in) {
  in.prepare(t, x.data(), m, w.cols(), mode == cpu::ActMode::kInt8);
  std::vector<float> y(size_t(m * w.rows()), std::numeric_limits<float>::quiet_NaN());
  cpu::gemv_rows(t, mode, w, in, m, y.data(), w.rows(), 0, w.rows());
  return y;
}

// The activations int8 mode actually multiplies: qd[b] * q[j], token by token.
std::vector<float> int8_activations(const cpu::GemvInput& in, int m, int64_t k) {
  std::vector<float> xq(size_t(m * k));
  for (int i = 0; i < m; ++i) {
    const cpu::GemvActs a = in.token(i);
    for (int64_t j = 0; j < k; ++j) xq[size_t(i * k + j)] = a.qd[j / cpu::kActBlock] * float(a.q[j]);
  }
  return xq;
}

TEST(Gemv, FloatActivationsMatchReferenceForEveryCodecAndIsa) {
  std::mt19937 rng(std::random_device{}());
  for (const Case& c : cases()) {
    auto packed = test::random_packed(c.dtype, c.rows, c.cols, rng);
    const TensorView w = test::view(c.dtype, {c.rows, c.cols}, packed.data());
    for (int m : {1, 3}) {
      const auto x = test::random_floats(size_t(m * c.cols), rng);
      const auto ref = reference(w, x, m), mag = magnitude(w, x, m);
      for (cpu::Isa isa : cpu::supported_isas()) {
        cpu::GemvInput in;
        const auto y = run(cpu::gemv_table(isa), cpu::ActMode::kFloat, w, x, m, in);
        const std::string what = std::string(dtype_name(c.dtype)) + "/" + cpu::isa_name(isa) + " " +
                                 std::to_string(c.rows) + "x" + std::to_string(c.cols) + " m=" + std::to_string(m);
        for (size_t i = 0; i < y.size(); ++i) {
          ASSERT_TRUE(std::isfinite(y[i])) << what << " output " << i << " not written";
          ASSERT_NEAR(y[i], ref[i], 2e-6 * mag[i] + 1e-7) << what << " output " << i;
        }
      }
    }
  }
}

// The weights int8 mode multiplies: the stored ones, except that cb4/cb4s round the row's 16
// centroids to int8 against the largest (c8 = nearbyint(c * 127 / s), w = s / 127 * c8 * g).
std::vector<float> int8_mode_weights(const TensorView& w) {
  const int64_t n = w.rows(), k = w.cols();
  std::vector<float> out(size_t(n * k));
  for (int64_t r = 0; r < n; ++r) {
    float* dst = out.data() + r * k;
    dequantize_row(w, r, dst);
    if (w.dtype != DType::kCB4 && w.dtype != DType::kCB4S) continue;
    const uint8_t* row = w.row(r);
    float c[16], s = 0;
    for (int i = 0; i < 16; ++i) {
      uint16_t h;
      std::memcpy(&h, row + 2 * i, 2);
      c[i] = fp16_to_float(h);
      s = std::max(s, std::fabs(c[i]));
    }
    const float inv = s > 0 ? 127.0f / s : 0.0f;
    for (int64_t j = 0; j < k; ++j) {
      int code;
      float g = 1.0f;
      if (w.dtype == DType::kCB4) {
        const uint8_t* q = row + kCb4HeaderBytes + (j / 32) * 16;
        code = j % 32 < 16 ? q[j % 32] & 15 : q[j % 32 - 16] >> 4;
      } else {
        const uint8_t* blk = row + kCb4HeaderBytes + (j / 64) * int64_t(sizeof(BlockCb4s));
        code = j % 64 < 32 ? blk[1 + j % 64] & 15 : blk[1 + j % 64 - 32] >> 4;
        g = cb4s_scale(blk[0]);
      }
      dst[j] = float(double(s) / 127.0 * std::nearbyint(c[code] * inv) * g);
    }
  }
  return out;
}

TEST(Gemv, Int8ActivationsMatchReferenceOnTheirQuantizedInputs) {
  std::mt19937 rng(std::random_device{}());
  int checked = 0;
  for (const Case& c : cases()) {
    auto packed = test::random_packed(c.dtype, c.rows, c.cols, rng);
    const TensorView w = test::view(c.dtype, {c.rows, c.cols}, packed.data());
    const auto w8 = int8_mode_weights(w);
    const TensorView v8 = test::view(DType::kF32, {c.rows, c.cols}, w8.data());
    const int m = 2;
    const auto x = test::random_floats(size_t(m * c.cols), rng);
    const auto ref = reference(w, x, m);
    // What the int8 codebook changes, bounded: sum |w - w8| |x|.
    std::vector<float> dw(w8.size());
    std::vector<float> wf(static_cast<size_t>(c.cols));
    for (int64_t r = 0; r < c.rows; ++r) {
      dequantize_row(w, r, wf.data());
      for (int64_t j = 0; j < c.cols; ++j) dw[size_t(r * c.cols + j)] = std::fabs(wf[size_t(j)] - w8[size_t(r * c.cols + j)]);
    }
    const auto codebook_err = magnitude(test::view(DType::kF32, {c.rows, c.cols}, dw.data()), x, m);
    for (cpu::Isa isa : cpu::supported_isas()) {
      const cpu::GemvTable t = cpu::gemv_table(isa);
      if (!t.int8[int(c.dtype)]) continue;
      cpu::GemvInput in;
      const auto y = run(t, cpu::ActMode::kInt8, w, x, m, in);
      // Exact integer arithmetic on the quantized activations: only float scaling rounds.
      const auto xq = int8_activations(in, m, c.cols);
      const auto ref_q = reference(v8, xq, m), mag_q = magnitude(w, xq, m);
      // Against the float input: |sum w8 (x - xq)| <= sum |w8| * qd / 2, plus the codebook's part.
      std::vector<float> half_step(x.size());
      for (int i = 0; i < m; ++i)
        for (int64_t j = 0; j < c.cols; ++j) half_step[size_t(i * c.cols + j)] = 0.5f * in.token(i).qd[j / 32];
      const auto bound = magnitude(v8, half_step, m);
      const std::string what = std::string(dtype_name(c.dtype)) + "/" + cpu::isa_name(isa) + " " +
                               std::to_string(c.rows) + "x" + std::to_string(c.cols);
      for (size_t i = 0; i < y.size(); ++i) {
        ASSERT_TRUE(std::isfinite(y[i])) << what << " output " << i << " not written";
        const double tol = 4e-6 * mag_q[i] + 1e-6;
        ASSERT_NEAR(y[i], ref_q[i], tol) << what << " output " << i;
        ASSERT_LE(std::fabs(y[i] - ref[i]), bound[i] * 1.0001 + codebook_err[i] * 1.0001 + tol)
            << what << " output " << i;
      }
      ++checked;
    }
  }
  // q8, Q8_0, Q4_0, Q4_1, q4g32/64/128, cb4, cb4s and t158 have integer kernels on every ISA
  // (cb4 and cb4s on generic and AVX-512 only).
  EXPECT_GE(checked, 8 * 6);
}

// t158 never writes code 3, but a file may hold it: every kernel must read it as 0.
TEST(Gemv, T158CodeThreeReadsAsZeroInEveryKernel) {
  std::mt19937 rng(std::random_device{}());
  const int64_t rows = 6, cols = 300;
  std::vector<uint8_t> packed(size_t(rows * codec(DType::kT158).row_bytes(cols)));
  for (auto& b : packed) b = uint8_t(rng());
  for (size_t off = 0; off < packed.size(); off += sizeof(BlockT158)) {
    const uint16_t d = float_to_fp16(0.01f + 0.001f * float(off % 7));
    std::memcpy(&packed[off], &d, 2);
  }
  const TensorView w = test::view(DType::kT158, {rows, cols}, packed.data());
  const auto x = test::random_floats(size_t(cols), rng);
  const auto ref = reference(w, x, 1), mag = magnitude(w, x, 1);
  for (cpu::Isa isa : cpu::supported_isas())
    for (cpu::ActMode mode : {cpu::ActMode::kFloat, cpu::ActMode::kInt8}) {
      cpu::GemvInput in;
      const auto y = run(cpu::gemv_table(isa), mode, w, x, 1, in);
      const auto xq = mode == cpu::ActMode::kInt8 ? int8_activations(in, 1, cols) : x;
      const auto want = mode == cpu::ActMode::kInt8 ? reference(w, xq, 1) : ref;
      for (int64_t r = 0; r < rows; ++r)
        ASSERT_NEAR(y[size_t(r)], want[size_t(r)], 4e-6 * mag[size_t(r)] + 1e-6)
            << cpu::isa_name(isa) << (mode == cpu::ActMode::kInt8 ? " int8" : " float") << " row " << r;
    }
}

// Prefill (M >= 4) with int8 activations: the VNNI tile kernel, partial tiles, outliers.
TEST(Gemv, Int8PrefillMatchesReferenceOnItsQuantizedInputs) {
  const auto isas = cpu::supported_isas();
  if (std::find(isas.begin(), isas.end(), cpu::Isa::kAvx512) == isas.end()) GTEST_SKIP() << "no AVX-512 VNNI";
  std::mt19937 rng(std::random_device{}());
  CpuBackend b(2, CpuOptions{cpu::Isa::kAvx512, cpu::ActMode::kInt8});
  int checked = 0;
  for (const Case& c : cases()) {
    if (!cpu::has_gemm_int8(cpu::Isa::kAvx512, c.dtype)) continue;
    const int64_t rows = c.rows * 7;  // several tiles, the last one partial
    auto packed = test::random_packed(c.dtype, rows, c.cols, rng);
    TensorView w = test::view(c.dtype, {rows, c.cols}, packed.data());
    std::vector<uint32_t> row_ptr{0}, cols;
    std::vector<uint16_t> vals;
    if (checked % 2) {  // every other case carries sparse outliers
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t j = r % 5; j < c.cols; j += 7) {
          cols.push_back(uint32_t(j));
          vals.push_back(float_to_fp16(0.5f - float(j % 3)));
        }
        row_ptr.push_back(uint32_t(cols.size()));
      }
      w.outliers = {row_ptr.data(), cols.data(), vals.data(), int64_t(cols.size())};
    }
    for (int m : {4, 9, 17}) {
      const auto x = test::random_floats(size_t(m * c.cols), rng);
      std::vector<float> y(size_t(m * rows), std::numeric_limits<float>::quiet_NaN());
      b.matmul(w, x.data(), y.data(), m);
      cpu::GemvInput in;
      in.prepare(cpu::gemv_table(cpu::Isa::kAvx512), x.data(), m, c.cols, true);
      const auto xq = int8_activations(in, m, c.cols);
      // The packed weights (cb4's codebook rounded to int8) meet the int8 activations, the
      // outliers the exact float ones.
      TensorView plain = w;
      plain.outliers = {};
      const auto w8 = int8_mode_weights(plain);
      auto ref_q = reference(test::view(DType::kF32, {rows, c.cols}, w8.data()), xq, m);
      const auto with = reference(w, x, m), without = reference(plain, x, m), mag_q = magnitude(w, xq, m);
      for (size_t i = 0; i < ref_q.size(); ++i) ref_q[i] += with[i] - without[i];
      for (size_t i = 0; i < y.size(); ++i) {
        ASSERT_TRUE(std::isfinite(y[i])) << dtype_name(c.dtype) << " output " << i << " not written";
        ASSERT_NEAR(y[i], ref_q[i], 4e-6 * mag_q[i] + 1e-6)
            << dtype_name(c.dtype) << " " << rows << "x" << c.cols << " m=" << m << " output " << i;
      }
    }
    ++checked;
  }
  EXPECT_GE(checked, 8 * 3);
}

TEST(Gemv, Int8ActivationQuantizationIsPerBlockSymmetricOnEveryIsa) {
  std::mt19937 rng(std::random_device{}());
  const int64_t k = 77;
  auto x = test::random_floats(size_t(k), rng, 3.0f);
  x[40] = 0;  // a zero inside a block stays zero
  x[70] = 0.5f * x[69];  // not a tie in general; ties are checked below
  std::vector<std::vector<int8_t>> qs;
  for (cpu::Isa isa : cpu::supported_isas()) {
    cpu::GemvInput in;
    in.prepare(cpu::gemv_table(isa), x.data(), 1, k, true);
    const cpu::GemvActs a = in.token(0);
    for (int64_t b = 0; b * 32 < k; ++b) {
      float amax = 0;
      int32_t sum = 0;
      for (int64_t j = b * 32; j < std::min(k, (b + 1) * 32); ++j) amax = std::max(amax, std::fabs(x[size_t(j)]));
      EXPECT_FLOAT_EQ(a.qd[b], amax / 127.0f) << cpu::isa_name(isa);
      for (int64_t j = b * 32; j < (b + 1) * 32; ++j) {
        const float xj = j < k ? x[size_t(j)] : 0.0f;  // padding quantizes to 0
        // Round to nearest, ties to even, as nearbyint.
        EXPECT_EQ(a.q[j], int8_t(std::nearbyint(xj * (amax > 0 ? 1.0f / (amax / 127.0f) : 0.0f))))
            << cpu::isa_name(isa) << " " << j;
        sum += a.q[j];
      }
      EXPECT_EQ(a.qsum[b], sum);
      EXPECT_FLOAT_EQ(a.qdsum[b], a.qd[b] * float(sum));
      double xs = 0;
      for (int64_t j = b * 32; j < std::min(k, (b + 1) * 32); ++j) xs += x[size_t(j)];
      EXPECT_NEAR(a.xsum[b], xs, 1e-5) << cpu::isa_name(isa);
    }
    EXPECT_EQ(a.q[40], 0);
    for (int64_t j = k; j < in.kpad(); ++j) EXPECT_EQ(a.x[j], 0.0f) << "x padding " << j;
    qs.emplace_back(a.q, a.q + in.kpad());
  }
  for (size_t i = 1; i < qs.size(); ++i) EXPECT_EQ(qs[i], qs[0]) << "ISA " << i << " quantizes differently";
}

// The several-tokens kernels (one row unpack for up to 8 tokens, and 16-row tiles) against the
// one-token int8 kernels, for 1 to 11 tokens (two passes past 8); and in passes of 2 to 8
// tokens a token's result does not depend on how many others share its pass.
TEST(Gemv, MultiTokenKernelsMatchPerTokenKernelsAndDoNotDependOnTheBatch) {
  std::mt19937 rng(std::random_device{}());
  int checked = 0;
  for (cpu::Isa isa : cpu::supported_isas()) {
    const cpu::GemvTable t = cpu::gemv_table(isa);
    cpu::GemvTable single = t;
    for (auto& f : single.int8m) f = nullptr;
    for (auto& f : single.int8t) f = nullptr;
    for (const Case& cc : cases()) {
      if (!t.int8m[int(cc.dtype)]) continue;
      // 37 rows: two 16-row tiles where the codec has a tile kernel, then 5 rows alone.
      const Case c{cc.dtype, 37, cc.cols};
      auto packed = test::random_packed(c.dtype, c.rows, c.cols, rng);
      const TensorView w = test::view(c.dtype, {c.rows, c.cols}, packed.data());
      const int mmax = 11;
      const auto x = test::random_floats(size_t(mmax * c.cols), rng);
      cpu::GemvInput in;
      const auto alone = run(single, cpu::ActMode::kInt8, w, x, mmax, in);
      const auto mag = magnitude(w, int8_activations(in, mmax, c.cols), mmax);
      cpu::GemvInput in2;  // tokens 0 and 1 in a pass of their own
      const auto pair = run(t, cpu::ActMode::kInt8, w, x, 2, in2);
      const std::string what = std::string(dtype_name(c.dtype)) + "/" + cpu::isa_name(isa) + " " +
                               std::to_string(c.rows) + "x" + std::to_string(c.cols);
      for (int m = 1; m <= mmax; ++m) {
        cpu::GemvInput inm;
        const auto y = run(t, cpu::ActMode::kInt8, w, x, m, inm);
        for (size_t j = 0; j < y.size(); ++j) {
          ASSERT_TRUE(std::isfinite(y[j])) << what << " m=" << m << " output " << j << " not written";
          ASSERT_NEAR(y[j], alone[j], 4e-6 * mag[j] + 1e-6) << what << " m=" << m << " output " << j;
          if (m >= 2 && m <= cpu::kGemvMultiMax && j < pair.size()) {
            ASSERT_EQ(y[j], pair[j]) << what << " m=" << m << ": token " << j / size_t(c.rows)
                                     << " differs from its result in a pass of 2";
          }
        }
      }
      ++checked;
    }
  }
  // q4g64, q4g128, cb4 and cb4s have them on AVX-512.
  if (cpu::detect_isa() == cpu::Isa::kAvx512) {
    EXPECT_GE(checked, 4 * 5);
  }
}

TEST(Gemv, ThreadedBackendIsBitIdenticalRunToRunAndAcrossThreadCounts) {
  std::mt19937 rng(std::random_device{}());
  for (DType d : {DType::kQ4G32, DType::kCB4, DType::kQ8, DType::kT158}) {
    const int64_t rows = 1531, cols = 320;
    auto packed = test::random_packed(d, rows, cols, rng);
    const TensorView w = test::view(d, {rows, cols}, packed.data());
    const auto x = test::random_floats(size_t(cols), rng);
    std::vector<std::vector<float>> ys;
    for (int threads : {1, 2, 2, 3}) {
      CpuBackend b(threads);
      std::vector<float> y(size_t(rows), std::numeric_limits<float>::quiet_NaN());
      b.matmul(w, x.data(), y.data(), 1);
      ys.push_back(y);
    }
    for (size_t i = 1; i < ys.size(); ++i)
      ASSERT_EQ(0, std::memcmp(ys[0].data(), ys[i].data(), ys[0].size() * 4)) << dtype_name(d) << " run " << i;
  }
}

// The backend quantizes an input once for consecutive matmuls that read it (q, k, v): a
// second matmul on the same values gives the same output, and one element changed in place
// (same pointer) is seen, on the decode GEMV, the tile GEMV and the prefill GEMM paths.
TEST(Gemv, BackendReusesAnInputOnlyWhileItIsUnchanged) {
  std::mt19937 rng(std::random_device{}());
  const int64_t rows = 96, cols = 512;
  auto packed = test::random_packed(DType::kQ4G64, rows, cols, rng);
  const TensorView w = test::view(DType::kQ4G64, {rows, cols}, packed.data());
  for (int n : {1, 5, 40, 200}) {
    CpuBackend b(2);
    auto x = test::random_floats(size_t(n * cols), rng);
    auto matmul = [&](CpuBackend& be) {
      std::vector<float> y(size_t(n * rows), std::numeric_limits<float>::quiet_NaN());
      be.matmul(w, x.data(), y.data(), n);
      return y;
    };
    const std::vector<float> first = matmul(b);
    EXPECT_EQ(matmul(b), first) << n << " tokens";
    x[x.size() - 1] += 4.0f;  // the last token's last element
    const std::vector<float> changed = matmul(b);
    CpuBackend fresh(2);
    EXPECT_EQ(changed, matmul(fresh)) << n << " tokens";
    EXPECT_NE(changed, first) << n << " tokens";
    if (n > 1) {  // the same values read as fewer tokens
      std::vector<float> y(size_t(rows), std::numeric_limits<float>::quiet_NaN()), yf = y;
      b.matmul(w, x.data(), y.data(), 1);
      fresh.matmul(w, x.data(), yf.data(), 1);
      EXPECT_EQ(y, yf) << n << " tokens";
    }
  }
}

}  // namespace
}  // namespace trapetum
