// Standalone check of the AArch64 NEON GEMV kernels, cross-compiled and run under qemu by
// scripts/neon_check.sh (no gtest: only libstdc++ exists for the target). Every codec, float
// and int8 activations, awkward random shapes, outputs poisoned, against a float64 reference.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "core/half.h"
#include "kernels/cpu/gemv.h"
#include "quant/lowbit.h"
#include "quant/row.h"

namespace trapetum {
namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr int kIntCodecs[] = {3, 4, 5, 8, 9, 10, 11, 14};  // DTypes with int8 kernels

struct Stats {
  int cases = 0;       // (codec, shape, mode) runs
  long dots = 0;       // outputs compared
  int failures = 0;
  double worst = 0;    // largest |error| / tolerance seen, and where
  std::string worst_at;
};

// Prints a mismatch (the first few) and counts it.
void fail(Stats& st, const std::string& what, const char* msg, double got, double want, double tol) {
  if (++st.failures <= 20)
    std::fprintf(stderr, "MISMATCH %s: %s: got %.9g, want %.9g (|diff| %.3g > tol %.3g)\n", what.c_str(), msg, got,
                 want, std::fabs(got - want), tol);
}

// rows x k random weights packed in dtype: real encodings for trapetum's codecs, random bytes
// with finite fp16 scales for GGUF blocks (as tests/common/test_util.cpp random_packed).
std::vector<uint8_t> random_weights(DType dt, int64_t rows, int64_t k, std::mt19937& rng) {
  const Codec& c = codec(dt);
  const int64_t rb = c.row_bytes(k);
  std::vector<uint8_t> out(size_t(rows * rb));
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> f(size_t(rows * k));
  for (float& v : f) v = normal(rng);
  if (c.quantize) {
    for (int64_t r = 0; r < rows; ++r) c.quantize(f.data() + r * k, out.data() + r * rb, k, nullptr);
    if (dt == DType::kT158)  // code 3 is never written but must read as 0: swap some 1s for 3s
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t b = 0; b < rb; b += int64_t(sizeof(BlockT158))) {
          uint8_t& byte = out[size_t(r * rb + b + 2 + rng() % 32)];
          const int s = 2 * int(rng() % 4);
          if (((byte >> s) & 3) == 1) byte |= uint8_t(3 << s);
        }
    return out;
  }
  if (dt == DType::kF16 || dt == DType::kBF16) {
    for (size_t i = 0; i < f.size(); ++i) {
      const uint16_t h = dt == DType::kF16 ? float_to_fp16(f[i]) : float_to_bf16(f[i]);
      std::memcpy(&out[i * 2], &h, 2);
    }
    return out;
  }
  for (uint8_t& b : out) b = uint8_t(rng());
  std::vector<size_t> halves;  // offsets of fp16 scale fields in a block
  if (dt == DType::kQ8_0 || dt == DType::kQ4_0) halves = {0};
  if (dt == DType::kQ4_1 || dt == DType::kQ4_K) halves = {0, 2};
  if (dt == DType::kQ6_K) halves = {208};
  std::uniform_real_distribution<float> mag(0.002f, 0.05f);
  for (int64_t b = 0; b < rows * k / c.block_elems; ++b)
    for (size_t off : halves) {
      const uint16_t h = float_to_fp16((rng() % 2 ? -1.0f : 1.0f) * mag(rng));
      std::memcpy(&out[size_t(b * c.block_bytes) + off], &h, 2);
    }
  return out;
}

// m tokens of k activations at mixed scales, with an all-zero block and a spike.
std::vector<float> random_acts(int m, int64_t k, std::mt19937& rng) {
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const float scales[] = {1.0f, 1e-3f, 40.0f};
  std::vector<float> x(size_t(m * k));
  for (int i = 0; i < m; ++i) {
    float* xi = x.data() + i * k;
    const float s = scales[rng() % 3];
    for (int64_t j = 0; j < k; ++j) xi[j] = s * normal(rng);
    if (k >= 64) std::fill(xi + 32, xi + 64, 0.0f);
    xi[rng() % k] *= 30.0f;
  }
  return x;
}

// Lengths for a codec: partial blocks and k = 1 where allowed, whole blocks otherwise, plus
// a fresh random one of each size class.
std::vector<int64_t> lengths(const Codec& c, std::mt19937& rng) {
  const int64_t b = c.block_elems;
  if (c.pads_tail || b == 1)
    return {1, 17, 31, 33, 95, 129, 200, int64_t(1 + rng() % 700), int64_t(2000 + rng() % 2200)};
  return {b, 2 * b, 3 * b, b * int64_t(1 + rng() % 12), b * int64_t(4096 / b + 1 + rng() % 4)};
}

// Runs one (codec, shape, mode) through gemv_rows with the ISA's table and compares it with
// the float64 reference; for int8 kernels also with the reference on the int8 activations.
void check_case(const cpu::GemvTable& t, DType dt, int64_t rows, int64_t k, int m, cpu::ActMode mode,
                std::mt19937& rng, Stats& st) {
  const auto packed = random_weights(dt, rows, k, rng);
  TensorView w;
  w.dtype = dt;
  w.shape = {rows, k};
  w.data = packed.data();
  const auto x = random_acts(m, k, rng);
  const bool int8 = mode == cpu::ActMode::kInt8 && t.int8[int(dt)];
  cpu::GemvInput in;
  in.prepare(t, x.data(), m, k, mode == cpu::ActMode::kInt8);
  // Poisoned, with a gap after each token's outputs that must stay unwritten; two row ranges
  // as the threaded backend splits them.
  const int64_t ldy = rows + 3;
  std::vector<float> y(size_t(m * ldy), kNaN);
  cpu::gemv_rows(t, mode, w, in, m, y.data(), ldy, 0, rows / 2);
  cpu::gemv_rows(t, mode, w, in, m, y.data(), ldy, rows / 2, rows);
  ++st.cases;

  const char* kind = int8 ? " int8" : mode == cpu::ActMode::kInt8 ? " int8(no int8 kernel)" : " float";
  const std::string what = std::string(dtype_name(dt)) + kind + " rows=" + std::to_string(rows) +
                           " k=" + std::to_string(k) + " m=" + std::to_string(m);
  // Rounding scales with sum_j bmax_j |x_j|, bmax_j the largest |w| in j's codec block: the
  // kernels round block scales and offsets (Q4_0's -8 d, q4g's m, t158's -d) beyond |w_j|.
  const int64_t blk = std::max<int64_t>(codec(dt).block_elems, 32);
  std::vector<float> wr(static_cast<size_t>(k));
  std::vector<double> bmax(static_cast<size_t>(k));
  for (int64_t r = 0; r < rows; ++r) {
    dequantize_row(w, r, wr.data());
    for (int64_t j0 = 0; j0 < k; j0 += blk) {
      double mx = 0;
      for (int64_t j = j0; j < std::min(k, j0 + blk); ++j) mx = std::max(mx, std::fabs(double(wr[size_t(j)])));
      std::fill(bmax.begin() + j0, bmax.begin() + std::min(k, j0 + blk), mx);
    }
    for (int i = 0; i < m; ++i) {
      const cpu::GemvActs a = in.token(i);
      const float* xi = x.data() + i * k;
      double ref = 0, mag = 0, ref_q = 0, mag_q = 0, bound = 0;
      for (int64_t j = 0; j < k; ++j) {
        const double wj = wr[size_t(j)];
        ref += wj * xi[j];
        mag += bmax[size_t(j)] * std::fabs(xi[j]);
        if (int8) {
          const double qd = a.qd[j / cpu::kActBlock], xq = qd * a.q[j];
          ref_q += wj * xq;
          mag_q += bmax[size_t(j)] * std::fabs(xq);
          bound += std::fabs(wj) * 0.5 * qd;  // |x - xq| <= qd / 2
        }
      }
      const double got = y[size_t(i * ldy + r)];
      const std::string at = what + " row=" + std::to_string(r) + " token=" + std::to_string(i);
      ++st.dots;
      if (!std::isfinite(got)) {
        fail(st, at, "output not written or not finite", got, ref, 0);
        continue;
      }
      // The constants of tests/kernels/gemv_test.cpp.
      const double tol = int8 ? 4e-6 * mag_q + 1e-6 : 2e-6 * mag + 1e-7;
      const double want = int8 ? ref_q : ref;
      if (std::fabs(got - want) / tol > st.worst) st.worst = std::fabs(got - want) / tol, st.worst_at = at;
      if (!(std::fabs(got - want) <= tol))
        fail(st, at, int8 ? "vs int8-activation reference" : "vs reference", got, want, tol);
      if (int8 && !(std::fabs(got - ref) <= bound * 1.0001 + tol))
        fail(st, at, "vs float reference (int8 rounding bound)", got, ref, bound * 1.0001 + tol);
    }
  }
  for (int i = 0; i < m; ++i)
    for (int64_t r = rows; r < ldy; ++r)
      if (!std::isnan(y[size_t(i * ldy + r)])) fail(st, what, "wrote past its rows", y[size_t(i * ldy + r)], 0, 0);
}

}  // namespace
}  // namespace trapetum

int main(int argc, char** argv) {
  using namespace trapetum;
  const unsigned seed = argc > 1 ? unsigned(std::strtoul(argv[1], nullptr, 10)) : std::random_device{}();
  std::printf("gemv_neon_check: seed %u (pass it as the first argument to repeat)\n", seed);
  std::mt19937 rng(seed);

  const std::vector<cpu::Isa> isas = cpu::supported_isas();
  const cpu::Isa isa = isas.back();
#if defined(__aarch64__)
  if (isa != cpu::Isa::kNeon) {
    std::fprintf(stderr, "FAIL: supported_isas() lacks neon (no dotprod in HWCAP; under qemu use -cpu max)\n");
    return 1;
  }
#endif
  const cpu::GemvTable t = cpu::gemv_table(isa), generic = cpu::gemv_table(cpu::Isa::kGeneric);
  // The ISA's table must hold its own kernels: a float one for every codec, and the int8 ones.
  int bad = 0;
  auto own = [&](const char* kind, int d, cpu::RowDotFn f, cpu::RowDotFn g) {
    if (f && (isa == cpu::Isa::kGeneric || f != g)) return;
    const std::string name(dtype_name(DType(d)));
    std::fprintf(stderr, "FAIL: %s has no %s kernel of its own for %s\n", cpu::isa_name(isa), kind, name.c_str());
    ++bad;
  };
  for (int d = 0; d < cpu::kGemvCodecs; ++d) own("float", d, t.f32[d], generic.f32[d]);
  for (int d : kIntCodecs) own("int8", d, t.int8[d], generic.int8[d]);

  Stats st;
  for (int d = 0; d < cpu::kGemvCodecs; ++d) {
    const DType dt = DType(d);
    for (int64_t k : lengths(codec(dt), rng)) {
      const int64_t rows = k < 300 ? int64_t(1 + rng() % 9) : int64_t(1 + rng() % 3);
      const int m = int(1 + rng() % 3);
      for (cpu::ActMode mode : {cpu::ActMode::kFloat, cpu::ActMode::kInt8})
        check_case(t, dt, rows, k, m, mode, rng, st);
    }
  }
  if (st.failures || bad) {
    std::fprintf(stderr, "FAIL: %s GEMV: %d mismatches in %d cases, %d missing kernels (seed %u)\n", cpu::isa_name(isa),
                 st.failures, st.cases, bad, seed);
    return 1;
  }
  std::printf("gemv_neon_check: %s OK: %d cases (%d codecs x shapes x float/int8), %ld outputs; worst error %.2f of "
              "tolerance (%s)\n",
              cpu::isa_name(isa), st.cases, cpu::kGemvCodecs, st.dots, st.worst, st.worst_at.c_str());
  return 0;
}
