// EnergyMeter: NVML through dlopen. The energy counter gives joules as a difference of two
// readings; without it a thread samples the power every ~5 ms and integrates (trapezoid rule).
#include "runtime/energy_meter.h"

#include <dlfcn.h>

namespace trapetum {
namespace {

// The few NVML declarations used, as nvml.h spells them (nvmlReturn_t is an int-sized enum).
using NvmlReturn = int;
using NvmlDevice = struct NvmlDeviceOpaque*;
constexpr NvmlReturn kNvmlSuccess = 0;
using NvmlInitFn = NvmlReturn (*)();
using NvmlShutdownFn = NvmlReturn (*)();
using NvmlErrorStringFn = const char* (*)(NvmlReturn);
using NvmlGetHandleByIndexFn = NvmlReturn (*)(unsigned int, NvmlDevice*);
using NvmlGetTotalEnergyFn = NvmlReturn (*)(NvmlDevice, unsigned long long*);  // millijoules
using NvmlGetPowerUsageFn = NvmlReturn (*)(NvmlDevice, unsigned int*);         // milliwatts

constexpr auto kSampleInterval = std::chrono::milliseconds(5);

}  // namespace

struct EnergyMeter::Nvml {
  void* handle = nullptr;
  std::string library;
  NvmlInitFn init = nullptr;
  NvmlShutdownFn shutdown = nullptr;
  NvmlErrorStringFn error_string = nullptr;  // optional
  NvmlGetHandleByIndexFn get_handle = nullptr;
  NvmlGetTotalEnergyFn get_total_energy = nullptr;
  NvmlGetPowerUsageFn get_power = nullptr;
  NvmlDevice device = nullptr;
  bool initialized = false;

  ~Nvml() {
    if (initialized && shutdown) shutdown();
    if (handle) dlclose(handle);
  }

  // "nvmlInit_v2 returned 9 (Driver Not Loaded)"
  std::string describe(const char* call, NvmlReturn rc) const {
    const char* text = error_string ? error_string(rc) : nullptr;
    return str_cat(call, " returned ", rc, text ? str_cat(" (", text, ")") : std::string(), " [", library, "]");
  }
};

namespace {

template <class Fn>
Status resolve(EnergyMeter::Nvml& n, const char* name, Fn* out) {
  dlerror();
  *out = reinterpret_cast<Fn>(dlsym(n.handle, name));
  if (!*out) return make_error("NVML: ", n.library, " has no symbol ", name);
  return Ok{};
}

}  // namespace

Result<std::unique_ptr<EnergyMeter>> EnergyMeter::open(int device_index, const std::string& library) {
  if (device_index < 0) return make_error("NVML: device index ", device_index, " is negative");
  auto n = std::make_unique<Nvml>();
  n->library = library;
  n->handle = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!n->handle) {
    const char* why = dlerror();
    return make_error("NVML: cannot load ", library, ": ", why ? why : "dlopen failed");
  }
  TRY_STATUS(resolve(*n, "nvmlInit_v2", &n->init));
  TRY_STATUS(resolve(*n, "nvmlShutdown", &n->shutdown));
  TRY_STATUS(resolve(*n, "nvmlDeviceGetHandleByIndex_v2", &n->get_handle));
  TRY_STATUS(resolve(*n, "nvmlDeviceGetPowerUsage", &n->get_power));
  (void)resolve(*n, "nvmlErrorString", &n->error_string);  // optional: codes stay numeric without it
  (void)resolve(*n, "nvmlDeviceGetTotalEnergyConsumption", &n->get_total_energy);  // optional: pre-Volta NVML

  if (NvmlReturn rc = n->init(); rc != kNvmlSuccess) return make_error("NVML: ", n->describe("nvmlInit_v2", rc));
  n->initialized = true;
  if (NvmlReturn rc = n->get_handle(static_cast<unsigned int>(device_index), &n->device); rc != kNvmlSuccess)
    return make_error("NVML: ", n->describe(str_cat("nvmlDeviceGetHandleByIndex_v2(", device_index, ")").c_str(), rc));

  // The counter is preferred: exact, and no thread. Probe both once so that a device that can
  // measure neither fails here rather than reporting zeros later.
  unsigned long long mj = 0;
  NvmlReturn energy_rc = n->get_total_energy ? n->get_total_energy(n->device, &mj) : -1;
  const bool has_counter = energy_rc == kNvmlSuccess;
  if (!has_counter) {
    unsigned int mw = 0;
    if (NvmlReturn rc = n->get_power(n->device, &mw); rc != kNvmlSuccess) {
      std::string energy_why = n->get_total_energy ? n->describe("nvmlDeviceGetTotalEnergyConsumption", energy_rc)
                                                   : str_cat("nvmlDeviceGetTotalEnergyConsumption is missing");
      return make_error("NVML: device ", device_index, " reports no energy: ", energy_why, "; ",
                        n->describe("nvmlDeviceGetPowerUsage", rc));
    }
  }
  return std::unique_ptr<EnergyMeter>(new EnergyMeter(std::move(n), has_counter));
}

EnergyMeter::EnergyMeter(std::unique_ptr<Nvml> nvml, bool has_counter)
    : nvml_(std::move(nvml)), has_counter_(has_counter), method_(has_counter ? "energy-counter" : "power-sampling") {}

EnergyMeter::~EnergyMeter() { join_sampler(); }

bool EnergyMeter::read_energy_mj(unsigned long long* out) const {
  return nvml_->get_total_energy(nvml_->device, out) == kNvmlSuccess;
}

bool EnergyMeter::read_power(PowerSample* out) const {
  unsigned int mw = 0;
  out->t = Clock::now();
  if (nvml_->get_power(nvml_->device, &mw) != kNvmlSuccess) return false;
  out->watts = double(mw) / 1000.0;
  return true;
}

void EnergyMeter::sample_loop() {
  while (!stop_requested_.load(std::memory_order_relaxed)) {
    std::this_thread::sleep_for(kSampleInterval);
    PowerSample s;
    if (read_power(&s)) samples_.push_back(s);
  }
}

void EnergyMeter::join_sampler() {
  if (!sampler_.joinable()) return;
  stop_requested_.store(true, std::memory_order_relaxed);
  sampler_.join();
}

void EnergyMeter::start() {
  join_sampler();
  running_ = true;
  samples_.clear();
  t0_ = Clock::now();
  if (has_counter_) {
    e0_ok_ = read_energy_mj(&e0_mj_);
    return;
  }
  PowerSample first;
  if (read_power(&first)) samples_.push_back(first);
  stop_requested_.store(false, std::memory_order_relaxed);
  sampler_ = std::thread([this] { sample_loop(); });
}

EnergyReading EnergyMeter::stop() {
  EnergyReading r;
  r.method = method_;
  if (!running_) return r;
  running_ = false;
  if (has_counter_) {
    unsigned long long e1 = 0;
    const bool ok = read_energy_mj(&e1) && e0_ok_ && e1 >= e0_mj_;
    r.seconds = std::chrono::duration<double>(Clock::now() - t0_).count();
    if (ok) {
      r.joules = double(e1 - e0_mj_) / 1000.0;
      r.samples = 2;
    }
  } else {
    join_sampler();
    PowerSample last;
    if (read_power(&last)) samples_.push_back(last);
    r.seconds = std::chrono::duration<double>(Clock::now() - t0_).count();
    r.samples = int(samples_.size());
    for (size_t i = 1; i < samples_.size(); ++i) {
      const double dt = std::chrono::duration<double>(samples_[i].t - samples_[i - 1].t).count();
      r.joules += 0.5 * (samples_[i].watts + samples_[i - 1].watts) * dt;
    }
    // Readings cover [first, last]; stretch their mean over the edges of the window they miss.
    if (!samples_.empty()) {
      const double covered = std::chrono::duration<double>(samples_.back().t - samples_.front().t).count();
      const double mean = covered > 0 ? r.joules / covered : samples_.front().watts;
      r.joules = mean * r.seconds;
    }
  }
  r.mean_watts = r.seconds > 0 ? r.joules / r.seconds : 0;
  return r;
}

}  // namespace trapetum
