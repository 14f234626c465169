// make_backend: CPU always; CUDA when built with it and a device answers.
#include "backend/make_backend.h"

#if TRAPETUM_HAS_CUDA
#include "backend/cuda_backend.h"
#endif

namespace trapetum {

bool cuda_built() { return TRAPETUM_HAS_CUDA != 0; }

Result<DeviceKind> device_from_name(const std::string& name) {
  if (name == "cpu") return DeviceKind::kCpu;
  if (name == "cuda") return DeviceKind::kCuda;
  return make_error("unknown device '", name, "' (cpu or cuda)");
}

const char* device_name(DeviceKind d) { return d == DeviceKind::kCuda ? "cuda" : "cpu"; }

Result<std::unique_ptr<Backend>> make_backend(const BackendOptions& o) {
  if (o.device == DeviceKind::kCpu) return std::unique_ptr<Backend>(new CpuBackend(o.threads, o.cpu));
#if TRAPETUM_HAS_CUDA
  CudaOptions c;
  c.device = o.cuda_device;
  c.graphs = o.cuda_graphs;
  auto b = CudaBackend::create(c);
  if (!b.ok()) return make_error("--device cuda: ", b.error());
  return std::unique_ptr<Backend>(std::move(b.value()));
#else
  return make_error("--device cuda: this build has no CUDA backend (configure with -DTRAPETUM_CUDA=ON)");
#endif
}

}  // namespace trapetum
