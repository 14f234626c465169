// EnergyMeter: joules a GPU drew over a time window, read from NVML loaded at run time with
// dlopen (no NVML header or link dependency: a build without the driver still runs, and a
// machine without NVML just reports that it has none).
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"

namespace trapetum {

struct EnergyReading {
  double joules = 0;
  double seconds = 0;     // length of the window, start() to stop()
  double mean_watts = 0;  // joules / seconds
  int samples = 0;        // NVML readings used (2 for the energy counter); 0 = none succeeded
  std::string method;     // "energy-counter" or "power-sampling"
};

class EnergyMeter {
 public:
  // Opens NVML by dlopen (`library`: a soname or a path) for GPU `device_index`. Uses the
  // total-energy counter (Volta and newer) where the device supports it, else samples the
  // power draw. Errors name the library, or the NVML call and its return code.
  static Result<std::unique_ptr<EnergyMeter>> open(int device_index,
                                                   const std::string& library = "libnvidia-ml.so.1");
  ~EnergyMeter();  // stops a running window, then nvmlShutdown and dlclose
  EnergyMeter(const EnergyMeter&) = delete;
  EnergyMeter& operator=(const EnergyMeter&) = delete;

  void start();          // begins a measurement window (ends a running one first)
  EnergyReading stop();  // ends it; without a start() it returns an empty reading
  const std::string& method() const { return method_; }

  struct Nvml;  // the NVML entry points and the dlopen handle (energy_meter.cpp)

 private:
  using Clock = std::chrono::steady_clock;
  struct PowerSample {
    Clock::time_point t;
    double watts;
  };

  EnergyMeter(std::unique_ptr<Nvml> nvml, bool has_counter);
  bool read_power(PowerSample* out) const;
  bool read_energy_mj(unsigned long long* out) const;
  void sample_loop();
  void join_sampler();

  std::unique_ptr<Nvml> nvml_;
  bool has_counter_ = false;
  std::string method_;
  bool running_ = false;
  Clock::time_point t0_;
  unsigned long long e0_mj_ = 0;
  bool e0_ok_ = false;
  // Power sampling: the thread exists only between start() and stop(); samples_ is written by
  // it alone until it is joined.
  std::thread sampler_;
  std::atomic<bool> stop_requested_{false};
  std::vector<PowerSample> samples_;
};

}  // namespace trapetum
