// `trapetum bench kernels`: every codec's matmul on 4096x4096, 11008x4096, 4096x11008 and
// 32000x4096 at M = 1 and M = 512, with GB/s, GFLOP/s and the error against float64.
#include <cstdio>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "runtime/bench_kernels.h"

#if TRAPETUM_HAS_CUDA
#include "runtime/bench_kernels_cuda.h"
#endif

namespace trapetum::cli {
namespace {

struct KernelCliOptions {
  KernelBenchOptions bench;
  std::vector<std::string> codecs, shapes;
  int threads = 1;
  std::string device;
  bool json = false;
};

Status parse(KernelCliOptions& o) {
  o.bench.codecs.clear();
  for (const std::string& name : o.codecs) {
    const auto d = dtype_from_name(name);
    if (!d) return make_error("--codecs: unknown codec '", name, "'");
    o.bench.codecs.push_back(*d);
  }
  if (o.bench.codecs.empty()) o.bench.codecs = all_kernel_codecs();
  if (!o.shapes.empty()) o.bench.shapes.clear();
  for (const std::string& s : o.shapes) {
    long long r = 0, c = 0;
    char tail = 0;
    if (std::sscanf(s.c_str(), "%lldx%lld%c", &r, &c, &tail) != 2 || r <= 0 || c <= 0 || r > (1 << 20) ||
        c > (1 << 20))
      return make_error("--shapes: '", s, "' is not ROWSxCOLS (each 1 .. 1048576)");
    o.bench.shapes.push_back({r, c});
  }
  return {};
}

// The GPU table: every codec next to cuBLAS fp16 on the same shape.
int cuda_kernels_main(KernelCliOptions& o) {
#if TRAPETUM_HAS_CUDA
  if (o.shapes.empty())  // Llama-2-13B's layer shapes as well
    for (KernelShape s : {KernelShape{5120, 5120}, KernelShape{13824, 5120}, KernelShape{5120, 13824}})
      o.bench.shapes.push_back(s);
  auto gpu = CudaBackend::create();
  if (!gpu.ok()) return report_error("--device cuda: " + gpu.error());
  CudaBackend& g = *gpu.value();
  if (!o.json) {
    std::printf("%s; CUDA events, median of %d passes over rotating copies (>= 4x L2); error vs float64\n",
                g.describe().c_str(), std::max(5, o.bench.reps));
    std::printf("%-10s %-12s %5s %10s %9s %12s %10s\n", "kernel", "shape", "M", "us", "GB/s", "vs cuBLAS", "max error");
  }
  auto print = [&](const CudaKernelBenchRow& r) {
    if (o.json) return;
    std::printf("%-10s %-12s %5d %10.2f %9.1f %11.2fx %10.2e\n", r.kernel.c_str(),
                str_cat(r.shape.rows, "x", r.shape.cols).c_str(), r.tokens, r.seconds * 1e6, r.gb_per_s,
                r.speedup_vs_cublas, r.max_rel_error);
    std::fflush(stdout);
  };
  auto rows = run_cuda_kernel_bench(g, o.bench, print);
  if (!rows.ok()) return report_error(rows.error());
  if (o.json) {
    nlohmann::json j{{"device", "cuda"}, {"gpu", g.props().name}, {"sm", g.props().sm}, {"rows", nlohmann::json::array()}};
    for (const CudaKernelBenchRow& r : rows.value())
      j["rows"].push_back({{"codec", r.kernel},
                           {"rows", r.shape.rows},
                           {"cols", r.shape.cols},
                           {"tokens", r.tokens},
                           {"seconds", r.seconds},
                           {"weight_bytes", r.weight_bytes},
                           {"gb_per_s", r.gb_per_s},
                           {"speedup_vs_cublas_f16", r.speedup_vs_cublas},
                           {"max_rel_error", r.max_rel_error}});
    std::puts(j.dump(2).c_str());
  }
  return 0;
#else
  return report_error("--device cuda: this build has no CUDA backend (configure with -DTRAPETUM_CUDA=ON)");
#endif
}

int kernels_main(KernelCliOptions& o) {
  if (Status st = parse(o); !st.ok()) return report_error(st.error());
  if (o.device == "cuda") return cuda_kernels_main(o);
  const auto env = cpu_options_from_env();
  if (!env.ok()) return report_error(env.error());
  const CpuOptions base = env.value();
  std::map<cpu::ActMode, std::unique_ptr<CpuBackend>> backends;
  auto backend_for = [&](cpu::ActMode a) -> CpuBackend& {
    auto& b = backends[a];
    if (!b) {
      CpuOptions opts = base;
      opts.act = a;
      b = std::make_unique<CpuBackend>(o.threads, opts);
    }
    return *b;
  };
  const char* isa = cpu::isa_name(backend_for(cpu::ActMode::kFloat).isa());
  if (!o.json) {
    std::printf("isa %s, %d threads, median of %d reps; error = max |y - ref| / max |ref|, ref in float64\n", isa,
                o.threads, o.bench.reps);
    std::printf("%-8s %-12s %5s %5s %10s %9s %10s %10s\n", "codec", "shape", "M", "act", "ms", "GB/s", "GFLOP/s",
                "max error");
  }
  auto print = [&](const KernelBenchRow& r) {
    if (o.json) return;
    std::printf("%-8s %-12s %5d %5s %10.3f %9.2f %10.1f %10.2e\n", std::string(dtype_name(r.dtype)).c_str(),
                str_cat(r.shape.rows, "x", r.shape.cols).c_str(), r.tokens, act_mode_name(r.act), r.seconds * 1e3,
                r.gb_per_s, r.gflop_per_s, r.max_rel_error);
    std::fflush(stdout);
  };
  auto rows = run_kernel_bench(o.bench, backend_for, print);
  if (!rows.ok()) return report_error(rows.error());
  if (o.json) {
    nlohmann::json j{{"isa", isa}, {"threads", o.threads}, {"reps", o.bench.reps}, {"rows", nlohmann::json::array()}};
    for (const KernelBenchRow& r : rows.value())
      j["rows"].push_back({{"codec", dtype_name(r.dtype)},
                           {"rows", r.shape.rows},
                           {"cols", r.shape.cols},
                           {"tokens", r.tokens},
                           {"act", act_mode_name(r.act)},
                           {"seconds", r.seconds},
                           {"weight_bytes", r.weight_bytes},
                           {"gb_per_s", r.gb_per_s},
                           {"gflop_per_s", r.gflop_per_s},
                           {"max_rel_error", r.max_rel_error}});
    std::puts(j.dump(2).c_str());
  }
  return 0;
}

}  // namespace

CLI::App* add_bench_kernels(CLI::App* bench, int* exit_code) {
  auto o = std::make_shared<KernelCliOptions>();
  CLI::App* cmd = bench->add_subcommand("kernels", "Matmul speed and error of every codec on real layer shapes");
  cmd->add_option("--codecs", o->codecs, "Codecs to run (default: all)")->delimiter(',');
  cmd->add_option("--shapes", o->shapes, "Weight shapes ROWSxCOLS (default: 4096x4096,11008x4096,4096x11008,32000x4096)")
      ->delimiter(',');
  cmd->add_option("-M,--tokens", o->bench.tokens, "Token counts (up to 8 = GEMV, decode; more = GEMM, prefill)")
      ->delimiter(',')->check(CLI::Range(1, 1 << 16))->capture_default_str();
  cmd->add_option("-r,--reps", o->bench.reps, "Repetitions; the median is reported")
      ->check(CLI::Range(1, 1000))->capture_default_str();
  cmd->add_flag("--json", o->json, "Print JSON");
  add_threads_option(cmd, &o->threads);
  add_device_option(cmd, &o->device);
  cmd->callback([o, exit_code] { *exit_code = kernels_main(*o); });
  return cmd;
}

}  // namespace trapetum::cli
