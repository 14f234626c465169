// Memory bandwidth of this machine, measured with a large multi-threaded copy: the roofline
// that batch-1 decode is judged against (it reads every weight once per token).
#pragma once

#include <cstdint>

namespace trapetum {

class ThreadPool;

struct BandwidthResult {
  double gb_per_s = 0;      // median over reps of (bytes read + bytes written) / time, 1e9 B/s
  double best_gb_per_s = 0;
  int64_t buffer_bytes = 0; // size of each of the two buffers
  int reps = 0;
};

// Copies a buffer of `bytes` (well beyond the caches) into another, split across the pool's
// threads; the buffers are filled with non-zero data first and the copy is checked.
BandwidthResult measure_copy_bandwidth(ThreadPool& pool, int64_t bytes, int reps);

}  // namespace trapetum
