// Wall-clock timing and process memory figures.
#pragma once

#include <chrono>

namespace trapetum {

class Timer {
 public:
  Timer() : start_(std::chrono::steady_clock::now()) {}
  double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }
  void reset() { start_ = std::chrono::steady_clock::now(); }

 private:
  std::chrono::steady_clock::time_point start_;
};

// Peak resident set size of this process in MiB (VmHWM), or 0 when unknown.
double peak_rss_mb();

}  // namespace trapetum
