// ThreadPool: persistent workers with dynamic task hand-out.
#include "core/thread_pool.h"

#include <fstream>
#include <set>
#include <string>
#include <utility>

namespace trapetum {

ThreadPool::ThreadPool(int n_threads) : n_threads_(n_threads < 1 ? 1 : n_threads) {
  for (int t = 1; t < n_threads_; ++t) workers_.emplace_back([this, t] { worker_loop(t); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  start_cv_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::run_tasks(int thread) {
  for (;;) {
    const int64_t task = next_task_.fetch_add(1, std::memory_order_relaxed);
    if (task >= n_tasks_) return;
    (*fn_)(task, thread);
  }
}

namespace {
inline void cpu_relax() {
#if defined(__x86_64__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}
// Spin iterations (about 50 us) an idle worker waits for the next call before sleeping.
constexpr int kSpinIterations = 20000;
}  // namespace

void ThreadPool::worker_loop(int thread) {
  uint64_t seen = 0;
  for (;;) {
    int spins = 0;
    while (generation_.load(std::memory_order_acquire) == seen && !stop_.load(std::memory_order_relaxed)) {
      if (++spins < kSpinIterations) {
        if (spins % 64 == 0) std::this_thread::yield();  // lets a descheduled caller run
        else cpu_relax();
        continue;
      }
      std::unique_lock<std::mutex> lock(mu_);
      ++sleeping_;
      start_cv_.wait(lock, [&] { return stop_ || generation_.load(std::memory_order_acquire) != seen; });
      --sleeping_;
    }
    if (stop_) return;
    seen = generation_.load(std::memory_order_acquire);
    run_tasks(thread);
    busy_.fetch_sub(1, std::memory_order_acq_rel);
  }
}

void ThreadPool::parallel_for(int64_t n_tasks, const std::function<void(int64_t, int)>& fn) {
  if (n_tasks <= 0) return;
  if (n_threads_ == 1 || n_tasks == 1) {
    for (int64_t i = 0; i < n_tasks; ++i) fn(i, 0);
    return;
  }
  fn_ = &fn;
  n_tasks_ = n_tasks;
  next_task_.store(0, std::memory_order_relaxed);
  busy_.store(n_threads_ - 1, std::memory_order_relaxed);
  {
    // Under the lock so that a worker between its last check and its wait cannot miss it.
    std::lock_guard<std::mutex> lock(mu_);
    generation_.fetch_add(1, std::memory_order_release);
  }
  if (sleeping_.load(std::memory_order_relaxed) > 0) start_cv_.notify_all();
  run_tasks(0);
  // Workers finish their last task soon after the caller runs out: spin, then yield the core
  // in case a worker is waiting for it (more threads than free cores).
  for (int spins = 0; busy_.load(std::memory_order_acquire) != 0; ++spins) {
    if (spins < kSpinIterations / 10) cpu_relax();
    else std::this_thread::yield();
  }
  fn_ = nullptr;
}

int ThreadPool::default_threads() {
  // Count distinct (physical id, core id) pairs in /proc/cpuinfo.
  std::ifstream f("/proc/cpuinfo");
  std::set<std::pair<std::string, std::string>> cores;
  std::string line, phys = "0";
  while (std::getline(f, line)) {
    auto value = [&] { return line.substr(line.find(':') + 1); };
    if (line.rfind("physical id", 0) == 0) phys = value();
    if (line.rfind("core id", 0) == 0) cores.insert({phys, value()});
  }
  const int logical = int(std::thread::hardware_concurrency());
  if (cores.empty()) return logical > 0 ? logical : 1;
  return int(cores.size());
}

}  // namespace trapetum
