// ThreadPool: persistent workers that run parallel_for bodies; the calling thread takes
// part as worker 0. No thread is created per call. Idle workers spin briefly before sleeping,
// because a decode step issues hundreds of short parallel_for calls back to back.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace trapetum {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }

  // Runs fn(task, thread) for task in [0, n_tasks); tasks are handed out dynamically.
  // thread is in [0, size()) and identifies per-thread scratch.
  void parallel_for(int64_t n_tasks, const std::function<void(int64_t task, int thread)>& fn);

  // Physical cores of this machine (logical CPUs when that cannot be read).
  static int default_threads();

 private:
  void worker_loop(int thread);
  void run_tasks(int thread);

  int n_threads_;
  std::vector<std::thread> workers_;
  std::mutex mu_;  // with start_cv_: wakes workers that stopped spinning
  std::condition_variable start_cv_;
  const std::function<void(int64_t, int)>* fn_ = nullptr;  // set before generation_ moves
  int64_t n_tasks_ = 0;
  std::atomic<int64_t> next_task_{0};
  std::atomic<uint64_t> generation_{0};  // one step per parallel_for
  std::atomic<int> busy_{0};             // workers still inside the current call
  std::atomic<int> sleeping_{0};         // workers waiting on start_cv_
  std::atomic<bool> stop_{false};
};

}  // namespace trapetum
