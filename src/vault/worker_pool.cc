#include "vault/worker_pool.h"

namespace chatvault::vault {

WorkerPool::WorkerPool(size_t threads, size_t max_queued) : max_queued_(max_queued) {
  threads_.reserve(threads);
  for (size_t i = 0; i < threads; ++i) threads_.emplace_back([this] { Work(); });
}

WorkerPool::~WorkerPool() { Shutdown(); }

bool WorkerPool::TryPost(std::function<void()> task) {
  {
    MutexLock lock(mu_);
    // Tasks beyond the threads wait in the queue; at most max_queued_ of them.
    if (stopping_ || running_ + queue_.size() >= threads_.size() + max_queued_) return false;
    queue_.push_back(std::move(task));
  }
  ready_.NotifyOne();
  return true;
}

void WorkerPool::Shutdown() {
  std::deque<std::function<void()>> dropped;
  {
    MutexLock lock(mu_);
    stopping_ = true;
    dropped.swap(queue_);
  }
  ready_.NotifyAll();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  // `dropped` dies here, outside the lock: its tasks may own connections.
}

size_t WorkerPool::queued() const {
  MutexLock lock(mu_);
  const size_t free = threads_.size() - running_;
  return queue_.size() > free ? queue_.size() - free : 0;
}

void WorkerPool::Work() {
  while (true) {
    std::function<void()> task;
    {
      MutexLock lock(mu_);
      ready_.Wait(mu_, [this]() CV_REQUIRES(mu_) { return stopping_ || !queue_.empty(); });
      if (stopping_) return;
      task = std::move(queue_.front());
      queue_.pop_front();
      ++running_;
    }
    task();
    task = nullptr;  // what it owns goes before the thread counts as free again
    MutexLock lock(mu_);
    --running_;
  }
}

}  // namespace chatvault::vault
