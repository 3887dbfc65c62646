#include "crypto/hash_threads.h"

#include <gtest/gtest.h>
#include <sched.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>
#include <vector>

namespace chatalot {
namespace {

using std::chrono::milliseconds;

int my_policy() { return sched_getscheduler(0); }  // the calling thread's, on Linux

TEST(HashThreads, NeverRunMoreJobsAtOnceThanThreads) {
  HashThreads pool(2, milliseconds(60'000));
  std::atomic<int> inside{0};
  std::atomic<int> most_inside{0};
  std::atomic<int> ran{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 8; ++i) {
    callers.emplace_back([&] {
      const bool done = pool.run([&] {
        const int now = ++inside;
        int seen = most_inside.load();
        while (now > seen && !most_inside.compare_exchange_weak(seen, now)) {
        }
        std::this_thread::sleep_for(milliseconds(20));
        --inside;
      });
      if (done) ++ran;
    });
  }
  for (std::thread& t : callers) t.join();
  EXPECT_EQ(ran.load(), 8);
  EXPECT_EQ(most_inside.load(), 2);
}

TEST(HashThreads, AJobNoThreadTookInTimeNeverRuns) {
  HashThreads pool(1, milliseconds(50));
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::future<bool> busy = std::async(std::launch::async, [&] { return pool.run([&] { released.wait(); }); });
  std::this_thread::sleep_for(milliseconds(20));  // the only thread holds the first job

  std::atomic<bool> late_ran{false};
  const auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(pool.run([&] { late_ran = true; }));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(50));

  release.set_value();
  EXPECT_TRUE(busy.get());
  bool next_ran = false;
  EXPECT_TRUE(pool.run([&] { next_ran = true; }));
  EXPECT_TRUE(next_ran);
  EXPECT_FALSE(late_ran.load());
}

TEST(HashThreads, JobsRunInTheIdleClassAndTheCallerKeepsItsOwn) {
  const int caller_before = my_policy();
  HashThreads pool(1, milliseconds(5000));
  int job_policy = -1;
  ASSERT_TRUE(pool.run([&] { job_policy = my_policy(); }));
  EXPECT_EQ(job_policy, SCHED_IDLE);
  EXPECT_EQ(my_policy(), caller_before);
  EXPECT_NE(caller_before, SCHED_IDLE);
}

}  // namespace
}  // namespace chatalot
