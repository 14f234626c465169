// A stand-in NVML, built as a shared library that energy_meter_test dlopens by path: the few
// entry points EnergyMeter uses, with behaviour scripted through fake_nvml_set_mode().
#include <atomic>

namespace {

// Modes (fake_nvml_set_mode): the energy counter works, or only the power reading does, or
// nvmlInit_v2 fails, or the device can measure nothing.
enum Mode { kCounter = 0, kPowerOnly = 1, kInitFails = 2, kNothing = 3 };

constexpr int kSuccess = 0;
constexpr int kInvalidArgument = 2;
constexpr int kNotSupported = 3;
constexpr int kDriverNotLoaded = 9;
constexpr unsigned long long kEnergyStepMj = 1500;  // the counter advances this much per reading
constexpr unsigned int kPowerMw = 250000;           // 250 W

std::atomic<int> g_mode{kCounter};
std::atomic<int> g_live_inits{0};
std::atomic<unsigned long long> g_energy_mj{1000000};
int g_device_tag = 0;  // its address is the one device handle

}  // namespace

extern "C" {

__attribute__((visibility("default"))) void fake_nvml_set_mode(int mode) { g_mode = mode; }
__attribute__((visibility("default"))) int fake_nvml_live_inits() { return g_live_inits; }
__attribute__((visibility("default"))) unsigned long long fake_nvml_energy_step_mj() { return kEnergyStepMj; }
__attribute__((visibility("default"))) unsigned int fake_nvml_power_mw() { return kPowerMw; }

__attribute__((visibility("default"))) int nvmlInit_v2() {
  if (g_mode == kInitFails) return kDriverNotLoaded;
  ++g_live_inits;
  return kSuccess;
}

__attribute__((visibility("default"))) int nvmlShutdown() {
  --g_live_inits;
  return kSuccess;
}

__attribute__((visibility("default"))) const char* nvmlErrorString(int rc) {
  switch (rc) {
    case kSuccess: return "Success";
    case kInvalidArgument: return "Invalid Argument";
    case kNotSupported: return "Not Supported";
    case kDriverNotLoaded: return "Driver Not Loaded";
    default: return "Unknown Error";
  }
}

__attribute__((visibility("default"))) int nvmlDeviceGetHandleByIndex_v2(unsigned int index, void** device) {
  if (index != 0) return kInvalidArgument;
  *device = &g_device_tag;
  return kSuccess;
}

__attribute__((visibility("default"))) int nvmlDeviceGetTotalEnergyConsumption(void* device, unsigned long long* mj) {
  if (device != &g_device_tag) return kInvalidArgument;
  if (g_mode != kCounter) return kNotSupported;
  *mj = g_energy_mj.fetch_add(kEnergyStepMj) + kEnergyStepMj;
  return kSuccess;
}

__attribute__((visibility("default"))) int nvmlDeviceGetPowerUsage(void* device, unsigned int* mw) {
  if (device != &g_device_tag) return kInvalidArgument;
  if (g_mode == kNothing) return kNotSupported;
  *mw = kPowerMw;
  return kSuccess;
}

}  // extern "C"
