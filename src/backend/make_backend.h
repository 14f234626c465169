// make_backend: the backend a command asked for (--device cpu|cuda), or an error that says why
// it cannot be had (no GPU, or a build without CUDA).
#pragma once

#include <memory>
#include <string>

#include "backend/backend.h"
#include "backend/cpu_backend.h"

namespace trapetum {

enum class DeviceKind { kCpu, kCuda };

struct BackendOptions {
  DeviceKind device = DeviceKind::kCpu;
  int threads = 1;      // CPU worker threads
  CpuOptions cpu;
  int cuda_device = 0;  // GPU index
  bool cuda_graphs = true;
};

// Whether this build has the CUDA backend (configured with -DTRAPETUM_CUDA=ON).
bool cuda_built();
Result<DeviceKind> device_from_name(const std::string& name);
const char* device_name(DeviceKind d);

Result<std::unique_ptr<Backend>> make_backend(const BackendOptions& o);

}  // namespace trapetum
