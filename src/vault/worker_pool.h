// A fixed set of threads for request handlers, which block on the record store (fsync, etcd
// round trips) and so must not run on the I/O threads. The queue in front of them is bounded:
// when it is full a request is refused at once (503) instead of waiting without limit.
#pragma once

#include <cstddef>
#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "chatvault/common/mutex.h"

namespace chatvault::vault {

class WorkerPool {
 public:
  WorkerPool(size_t threads, size_t max_queued);
  ~WorkerPool();  // Shutdown()
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // Runs `task` on a free thread, or queues it unless max_queued tasks already wait for one
  // (or the pool is shut down).
  bool TryPost(std::function<void()> task);
  // Lets running tasks finish, drops queued ones, joins the threads.
  void Shutdown();

  size_t queued() const;  // tasks waiting for a thread

 private:
  void Work();

  const size_t max_queued_;
  mutable Mutex mu_;
  CondVar ready_;
  std::deque<std::function<void()>> queue_ CV_GUARDED_BY(mu_);
  size_t running_ CV_GUARDED_BY(mu_) = 0;  // tasks being run
  bool stopping_ CV_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;  // made by the constructor, then only read
};

}  // namespace chatvault::vault
