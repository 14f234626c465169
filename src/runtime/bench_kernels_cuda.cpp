// CUDA kernel benchmark: per shape, cuBLAS fp16 first (the baseline), then every codec through
// CudaBackend::matmul, each over enough uploaded copies that a pass never hits in L2.
#include "runtime/bench_kernels_cuda.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <random>

#include "kernels/cuda/ops.h"

namespace trapetum {
namespace {

struct Timing {
  double seconds;
  std::vector<float> y;  // the output of the last call, copied to the host
};

// Median over reps of (time of one pass over every copy) / copies.
template <class Call>
Timing time_calls(CudaBackend& gpu, int copies, int reps, float* y_dev, int64_t y_n, Call&& call) {
  auto e0 = cuda::event_create(), e1 = cuda::event_create();
  std::vector<double> runs;
  for (int c = 0; c < copies; ++c) call(c);  // warm-up
  for (int rep = 0; rep < reps; ++rep) {
    cuda::event_record(e0.value(), gpu.stream());
    for (int c = 0; c < copies; ++c) call(c);
    cuda::event_record(e1.value(), gpu.stream());
    runs.push_back(double(cuda::event_ms(e0.value(), e1.value())) * 1e-3 / copies);
  }
  cuda::event_destroy(e0.value());
  cuda::event_destroy(e1.value());
  std::sort(runs.begin(), runs.end());
  Timing t{runs[runs.size() / 2], std::vector<float>(size_t(y_n))};
  gpu.to_host(y_dev, t.y.data(), y_n);
  return t;
}

std::vector<uint8_t> tiled(const std::vector<uint8_t>& seed, int64_t rows, int64_t row_bytes) {
  std::vector<uint8_t> out(size_t(rows * row_bytes));
  for (int64_t r = 0; r < rows; ++r)
    std::memcpy(out.data() + r * row_bytes, seed.data() + (r % kBenchSeedRows) * row_bytes, size_t(row_bytes));
  return out;
}

}  // namespace

Result<std::vector<CudaKernelBenchRow>> run_cuda_kernel_bench(
    CudaBackend& gpu, const KernelBenchOptions& o, const std::function<void(const CudaKernelBenchRow&)>& progress) {
  std::vector<CudaKernelBenchRow> out;
  std::mt19937 rng(uint32_t(o.seed));
  const int reps = std::max(5, o.reps);
  for (const KernelShape& s : o.shapes) {
    const int max_tokens = *std::max_element(o.tokens.begin(), o.tokens.end());
    std::vector<float> x(size_t(max_tokens * s.cols));
    std::normal_distribution<float> normal(0.0f, 1.0f);
    for (float& v : x) v = normal(rng);
    TRY(auto x_dev, gpu.alloc(int64_t(x.size())));
    gpu.to_device(x.data(), x_dev->data(), int64_t(x.size()));
    TRY(auto y_dev, gpu.alloc(int64_t(max_tokens) * s.rows));
    TRY(auto xh_dev, gpu.alloc((int64_t(x.size()) + 1) / 2));  // fp16 activations for cuBLAS
    auto* xh = reinterpret_cast<uint16_t*>(xh_dev->data());
    cuda::f32_to_f16(x_dev->data(), xh, int64_t(x.size()), gpu.stream());

    std::map<int, double> cublas_s;  // tokens -> seconds
    // cuBLAS fp16 first, then the codecs.
    std::vector<DType> kernels{DType::kF16};
    for (DType d : o.codecs) kernels.push_back(d);
    for (size_t ki = 0; ki < kernels.size(); ++ki) {
      const DType d = kernels[ki];
      const bool baseline = ki == 0;
      const Codec& c = codec(d);
      const int64_t rb = c.row_bytes(s.cols);
      if (rb < 0) continue;  // shape not a whole number of this codec's blocks
      const std::vector<uint8_t> seed = bench_seed_rows(d, s.cols, rng);
      const std::vector<uint8_t> host = tiled(seed, s.rows, rb);
      TensorView w;
      w.dtype = d;
      w.shape = {s.rows, s.cols};
      w.data = host.data();
      const int64_t bytes = s.rows * rb;
      const int copies = int(std::clamp<int64_t>(4 * gpu.props().l2_bytes / std::max<int64_t>(bytes, 1) + 1, 2, 64));
      std::vector<cuda::DevWeight> dw;
      for (int i = 0; i < copies; ++i) {
        TRY(TensorView dv, gpu.upload_copy(w));
        dw.push_back(gpu.dev_weight(dv));
      }
      for (int m : o.tokens) {
        CudaKernelBenchRow row{baseline ? "cublas-f16" : std::string(dtype_name(d)), s, m, 0, double(bytes), 0, 1, 0};
        Timing t;
        if (baseline) {
          t = time_calls(gpu, copies, reps, y_dev->data(), int64_t(m) * s.rows, [&](int i) {
            cuda::gemm_f16(gpu.blas(), reinterpret_cast<const uint16_t*>(dw[size_t(i)].codes), xh, y_dev->data(),
                           int(s.rows), m, int(s.cols), s.rows);
          });
          cublas_s[m] = t.seconds;
        } else {
          t = time_calls(gpu, copies, reps, y_dev->data(), int64_t(m) * s.rows,
                         [&](int i) { gpu.matmul_dev(dw[size_t(i)], x_dev->data(), y_dev->data(), m); });
        }
        row.seconds = t.seconds;
        row.gb_per_s = double(bytes) / t.seconds / 1e9;
        row.speedup_vs_cublas = cublas_s.count(m) ? cublas_s[m] / t.seconds : 0;
        row.max_rel_error = bench_max_rel_error(w, x, t.y, m, std::min(kBenchSeedRows, s.rows));
        out.push_back(row);
        progress(row);
      }
      gpu.free_uploads();
    }
  }
  return out;
}

}  // namespace trapetum
