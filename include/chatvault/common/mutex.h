// A mutex the thread-safety analysis can follow (common/thread_annotations.h): std::mutex with
// its locking declared, as abseil's Mutex and LevelDB's port::Mutex. Guard shared state with it:
//
//   Mutex mu_;
//   std::deque<Job> jobs_ CV_GUARDED_BY(mu_);
//   ...
//   MutexLock lock(mu_);
//   while (jobs_.empty()) ready_.Wait(mu_);
//
// On GCC the annotations are empty and every call inlines to the std::mutex one.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "chatvault/common/thread_annotations.h"

namespace chatvault {

class CV_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void Lock() CV_ACQUIRE() { mu_.lock(); }
  void Unlock() CV_RELEASE() { mu_.unlock(); }

 private:
  friend class CondVar;
  std::mutex mu_;
};

// Holds `mu` from construction to the end of the scope.
class CV_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& mu) CV_ACQUIRE(mu) : mu_(mu) { mu_.Lock(); }
  ~MutexLock() CV_RELEASE() { mu_.Unlock(); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

 private:
  Mutex& mu_;
};

// A condition variable waited on with a Mutex held. The wait releases the mutex and takes it
// again before it returns, as std::condition_variable's. A predicate reads guarded state, so it
// says it runs with the mutex held: [&]() CV_REQUIRES(mu_) { return !jobs_.empty(); }.
class CondVar {
 public:
  void Wait(Mutex& mu) CV_REQUIRES(mu) {
    Adopted lock(mu);
    cv_.wait(lock.lock);
  }
  template <typename Predicate>
  void Wait(Mutex& mu, Predicate done) CV_REQUIRES(mu) {
    Adopted lock(mu);
    cv_.wait(lock.lock, done);
  }
  // Returns done(): false if `timeout` passed first.
  template <typename Rep, typename Period, typename Predicate>
  bool WaitFor(Mutex& mu, std::chrono::duration<Rep, Period> timeout, Predicate done)
      CV_REQUIRES(mu) {
    Adopted lock(mu);
    return cv_.wait_for(lock.lock, timeout, done);
  }

  void NotifyOne() { cv_.notify_one(); }
  void NotifyAll() { cv_.notify_all(); }

 private:
  // The caller's hold on the mutex, lent to std::condition_variable for one wait and given
  // back (still held) when the wait returns.
  struct Adopted {
    explicit Adopted(Mutex& mu) : lock(mu.mu_, std::adopt_lock) {}
    ~Adopted() { lock.release(); }
    std::unique_lock<std::mutex> lock;
  };

  std::condition_variable cv_;
};

}  // namespace chatvault
