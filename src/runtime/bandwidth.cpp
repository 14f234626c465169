// Copy bandwidth: one memcpy slice per thread, timed as a whole; median of several reps.
#include "runtime/bandwidth.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "core/check.h"
#include "core/thread_pool.h"
#include "core/timer.h"

namespace trapetum {

BandwidthResult measure_copy_bandwidth(ThreadPool& pool, int64_t bytes, int reps) {
  const int64_t n = std::max<int64_t>(bytes / 8, 1);
  std::vector<uint64_t> src(static_cast<size_t>(n)), dst(static_cast<size_t>(n));
  const int64_t tasks = pool.size();
  auto slice = [&](int64_t t) { return std::pair{n * t / tasks, n * (t + 1) / tasks}; };
  // First touch from the workers that will copy, so pages sit where they are used.
  pool.parallel_for(tasks, [&](int64_t t, int) {
    auto [b, e] = slice(t);
    for (int64_t i = b; i < e; ++i) src[size_t(i)] = 0x9e3779b97f4a7c15ull * uint64_t(i + 1), dst[size_t(i)] = 0;
  });
  std::vector<double> rates;
  for (int r = 0; r < std::max(1, reps); ++r) {
    Timer timer;
    pool.parallel_for(tasks, [&](int64_t t, int) {
      auto [b, e] = slice(t);
      std::memcpy(dst.data() + b, src.data() + b, size_t(e - b) * 8);
    });
    rates.push_back(2.0 * double(n) * 8.0 / timer.seconds() / 1e9);
  }
  CHECK(dst[size_t(n / 2)] == src[size_t(n / 2)]);
  std::sort(rates.begin(), rates.end());
  return {rates[rates.size() / 2], rates.back(), n * 8, int(rates.size())};
}

}  // namespace trapetum
