#include "crypto/hash_threads.h"

#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <string>

#include "core/log.h"

namespace chatalot {

HashThreads::HashThreads(int threads, std::chrono::milliseconds queue_timeout)
    : queue_timeout_(queue_timeout) {
  for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
}

HashThreads::~HashThreads() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  queued_.notify_all();
  for (std::thread& t : threads_) t.join();
}

bool HashThreads::run(const std::function<void()>& fn) {
  Job job{&fn};
  std::unique_lock lock(mu_);
  queue_.push_back(&job);
  queued_.notify_one();
  if (!finished_.wait_for(lock, queue_timeout_, [&] { return job.started; })) {
    // Still queued (only a hash thread takes it out, and it marks it started under the lock).
    queue_.erase(std::find(queue_.begin(), queue_.end(), &job));
    return false;
  }
  finished_.wait(lock, [&] { return job.done; });
  return true;
}

void HashThreads::work() {
  // A thread's scheduling class is its own: this lowers only the hash threads. Lowering needs
  // no privilege; refused all the same (a seccomp filter without sched_setscheduler), hashing
  // runs at normal priority.
  const sched_param param{};
  if (const int e = pthread_setschedparam(pthread_self(), SCHED_IDLE, &param); e != 0) {
    log_error(std::string("hash threads keep normal CPU priority: sched_setscheduler: ") +
              std::strerror(e));
  }
  std::unique_lock lock(mu_);
  for (;;) {
    queued_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    Job* job = queue_.front();
    queue_.pop_front();
    job->started = true;
    finished_.notify_all();
    lock.unlock();
    try {
      (*job->fn)();
    } catch (const std::exception& e) {  // the job's result stays unset: its caller's error
      log_error(std::string("password hash failed: ") + e.what());
    }
    lock.lock();
    job->done = true;
    finished_.notify_all();
  }
}

}  // namespace chatalot
