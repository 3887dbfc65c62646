// Threads of their own for password hashes, at the lowest CPU priority.
//
// Argon2id takes a core for a fifth of a second per hash. Run on the request threads, hashes
// under load would take the cores from every cheap request of the host (the mode query,
// refresh, ...) and their latency would grow several times (tests/bench/run, "Latency of cheap
// paths while registration saturates the hashing"). Here each hash runs on one of `threads`
// threads that put themselves in Linux's SCHED_IDLE class: any other thread that wakes up takes
// the core from a hash at once (nice 19 alone still let a hash finish its time slice first,
// which doubled the cheap paths' p99), and hashing takes the time that is left. The number of
// threads is also the cap on hashes at once, which bounds their memory.
//
// run() waits up to `queue_timeout` for a thread to take the job, then gives up (the caller
// answers 503): the job never runs. A job that started runs to its end. Thread-safe; the
// destructor lets running jobs finish and joins the threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace chatalot {

class HashThreads {
 public:
  HashThreads(int threads, std::chrono::milliseconds queue_timeout);
  ~HashThreads();
  HashThreads(const HashThreads&) = delete;
  HashThreads& operator=(const HashThreads&) = delete;

  // Runs job on a hash thread and returns when it is done: true; false if no thread took it
  // within the queue timeout (then it never runs).
  [[nodiscard]] bool run(const std::function<void()>& job);

 private:
  struct Job {
    const std::function<void()>* fn;
    bool started = false;
    bool done = false;
  };
  void work();

  std::chrono::milliseconds queue_timeout_;
  std::mutex mu_;
  std::condition_variable queued_;    // a job is waiting, or the pool stops
  std::condition_variable finished_;  // a job started or finished
  std::deque<Job*> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace chatalot
