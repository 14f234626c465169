// `bench kernels`: each codec's matmul on real layer shapes at M = 1 (GEMV, decode) and
// M = 512 (GEMM, prefill): time, weight GB/s, GFLOP/s, and the error against the float64
// reference.
#pragma once

#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "backend/cpu_backend.h"
#include "core/result.h"

namespace trapetum {

struct KernelShape {
  int64_t rows, cols;  // the weight matrix (out features, in features)
};

struct KernelBenchOptions {
  std::vector<DType> codecs;
  std::vector<KernelShape> shapes = {{4096, 4096}, {11008, 4096}, {4096, 11008}, {32000, 4096}};
  std::vector<int> tokens = {1, 512};
  int reps = 3;
  uint64_t seed = 1;
};

struct KernelBenchRow {
  DType dtype;
  KernelShape shape;
  int tokens;
  cpu::ActMode act;
  double seconds;        // median over reps
  double weight_bytes;   // packed bytes of the matrix
  double gb_per_s;       // weight bytes / seconds
  double gflop_per_s;    // 2 * tokens * rows * cols / seconds
  double max_rel_error;  // max |y - ref| / max |ref| over checked outputs, ref in float64
};

// kBenchSeedRows rows of cols weights ~ N(0, 0.02) packed in d (GGUF blocks: random codes).
inline constexpr int64_t kBenchSeedRows = 64;
std::vector<uint8_t> bench_seed_rows(DType d, int64_t cols, std::mt19937& rng);
// max |y - ref| / max |ref| over the first rows_checked rows and min(m, 8) tokens, ref in
// float64 from the dequantized weights.
double bench_max_rel_error(const TensorView& w, const std::vector<float>& x, const std::vector<float>& y, int m,
                           int64_t rows_checked);

// Every codec the CPU kernels run, in table order.
std::vector<DType> all_kernel_codecs();

// Runs the grid; progress(row) after each measurement. backend_for(act) gives the backend
// for an activation mode; codecs with int8 kernels for the path M takes run both modes.
Result<std::vector<KernelBenchRow>> run_kernel_bench(const KernelBenchOptions& o,
                                                     const std::function<CpuBackend&(cpu::ActMode)>& backend_for,
                                                     const std::function<void(const KernelBenchRow&)>& progress);

}  // namespace trapetum
