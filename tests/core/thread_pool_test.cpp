// ThreadPool: every task runs once per call, thread ids stay in range, and the spinning,
// sleeping, wake-up and shutdown paths hand data over without races (run under TSan by
// scripts/tsan.sh).
#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace trapetum {
namespace {

TEST(ThreadPool, EveryTaskRunsExactlyOncePerCall) {
  ThreadPool pool(4);
  for (int64_t n : {1, 2, 3, 7, 64, 1000}) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    pool.parallel_for(n, [&](int64_t task, int thread) {
      ASSERT_GE(thread, 0);
      ASSERT_LT(thread, pool.size());
      hits[size_t(task)].fetch_add(1, std::memory_order_relaxed);
    });
    for (int64_t i = 0; i < n; ++i) EXPECT_EQ(hits[size_t(i)].load(), 1) << "n " << n << " task " << i;
  }
  pool.parallel_for(0, [](int64_t, int) { FAIL() << "no task expected"; });
}

// Plain (non-atomic) writes into per-task slots must be visible to the caller after the call,
// and the caller's writes before a call visible to the workers: the pool's own ordering.
TEST(ThreadPool, PlainWritesAreVisibleAcrossCallsBackToBack) {
  ThreadPool pool(3);
  std::vector<int64_t> data(257, 0);
  for (int round = 1; round <= 300; ++round) {
    pool.parallel_for(int64_t(data.size()), [&](int64_t i, int) { data[size_t(i)] += round; });
    int64_t expect = int64_t(round) * (round + 1) / 2;
    for (size_t i = 0; i < data.size(); ++i) ASSERT_EQ(data[i], expect) << "round " << round;
  }
}

// Per-thread scratch indexed by the thread id: no two concurrent tasks share an id.
TEST(ThreadPool, ThreadIdsAreExclusiveWhileRunning) {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> inside(size_t(pool.size()));
  std::vector<std::vector<int64_t>> scratch(size_t(pool.size()));
  std::atomic<int> clashes{0};
  for (int round = 0; round < 50; ++round) {
    pool.parallel_for(200, [&](int64_t task, int thread) {
      if (inside[size_t(thread)].fetch_add(1) != 0) clashes.fetch_add(1);
      scratch[size_t(thread)].push_back(task);  // would race if the id were shared
      inside[size_t(thread)].fetch_sub(1);
    });
  }
  EXPECT_EQ(clashes.load(), 0);
  size_t total = 0;
  for (const auto& s : scratch) total += s.size();
  EXPECT_EQ(total, 50u * 200u);
}

// Pauses longer than the spin window put workers to sleep on the condition variable; each
// next call must wake them (a lost wake-up would hang here).
TEST(ThreadPool, WorkersWakeAfterSleeping) {
  ThreadPool pool(3);
  std::atomic<int64_t> sum{0};
  for (int round = 0; round < 5; ++round) {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    pool.parallel_for(100, [&](int64_t i, int) { sum.fetch_add(i, std::memory_order_relaxed); });
  }
  EXPECT_EQ(sum.load(), 5 * (99 * 100 / 2));
}

// Destruction right after a call, with workers spinning or asleep, joins every worker.
TEST(ThreadPool, ShutdownWhileSpinningOrSleeping) {
  for (int i = 0; i < 20; ++i) {
    ThreadPool pool(3);
    std::atomic<int> n{0};
    pool.parallel_for(8, [&](int64_t, int) { n.fetch_add(1); });
    EXPECT_EQ(n.load(), 8);
    if (i % 2) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ThreadPool never_used(4);
}

// More threads than cores (2 here): the caller yields so that descheduled workers finish.
TEST(ThreadPool, OversubscribedPoolFinishes) {
  ThreadPool pool(8);
  std::atomic<int64_t> n{0};
  for (int round = 0; round < 100; ++round) pool.parallel_for(16, [&](int64_t, int) { n.fetch_add(1); });
  EXPECT_EQ(n.load(), 1600);
}

TEST(ThreadPool, SingleThreadRunsInline) {
  ThreadPool pool(1);
  const auto self = std::this_thread::get_id();
  int count = 0;
  pool.parallel_for(10, [&](int64_t, int thread) {
    EXPECT_EQ(thread, 0);
    EXPECT_EQ(std::this_thread::get_id(), self);
    ++count;
  });
  EXPECT_EQ(count, 10);
  EXPECT_GE(ThreadPool::default_threads(), 1);
}

}  // namespace
}  // namespace trapetum
