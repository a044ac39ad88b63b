// A small fixed pool of worker threads, and the chunk buffers they pass back. Callers bound memory
// themselves by keeping at most a few futures in flight.
#pragma once

#include <deque>
#include <functional>
#include <future>
#include <thread>
#include <vector>

#include "chatvault/common/bytes.h"
#include "chatvault/common/mutex.h"
#include "chatvault/common/status.h"

namespace chatvault::backup {

class WorkPool {
 public:
  explicit WorkPool(int threads) {
    if (threads < 1) threads = 1;
    for (int i = 0; i < threads; ++i) workers_.emplace_back([this] { Run(); });
  }
  ~WorkPool() {
    {
      MutexLock lock(mu_);
      stop_ = true;
    }
    cv_.NotifyAll();
    for (auto& t : workers_) t.join();
  }
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  template <typename F>
  auto Submit(F f) -> std::future<decltype(f())> {
    auto task = std::make_shared<std::packaged_task<decltype(f())()>>(std::move(f));
    auto future = task->get_future();
    {
      MutexLock lock(mu_);
      jobs_.emplace_back([task] { (*task)(); });
    }
    cv_.NotifyOne();
    return future;
  }

 private:
  void Run() {
    for (;;) {
      std::function<void()> job;
      {
        MutexLock lock(mu_);
        cv_.Wait(mu_, [this]() CV_REQUIRES(mu_) { return stop_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }

  Mutex mu_;
  CondVar cv_;
  std::deque<std::function<void()>> jobs_ CV_GUARDED_BY(mu_);
  bool stop_ CV_GUARDED_BY(mu_) = false;
  std::vector<std::thread> workers_;
};

// Chunk buffers handed back by the workers for the reader to fill again. A fresh multi-MiB
// allocation is zero-filled and faulted in page by page; a recycled one is neither.
class BufferRecycler {
 public:
  Bytes Take() {
    MutexLock lock(mu_);
    if (free_.empty()) return {};
    Bytes b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  void Give(Bytes b) {
    MutexLock lock(mu_);
    if (free_.size() < kKeep) free_.push_back(std::move(b));
  }

 private:
  static constexpr size_t kKeep = 16;  // more than any window in flight
  Mutex mu_;
  std::vector<Bytes> free_ CV_GUARDED_BY(mu_);
};

}  // namespace chatvault::backup
