// The pipeline shape that backup and restore share: one thread reads (or lists) in order and hands
// the heavy work (hashing, compression, encryption, upload, download, decryption) to worker
// threads, then takes the results back in the order it submitted them. At most `max_jobs` jobs,
// holding at most `max_bytes` of the caller's data, are in flight, so memory stays bounded
// however large the input, while the workers stay busy.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <limits>
#include <utility>
#include <variant>

#include "backup/work_pool.h"
#include "chatvault/common/status.h"

namespace chatvault::backup {

template <typename T, typename Tag = std::monostate>
class OrderedWindow {
 public:
  // Called on the submitting thread with each result, oldest first. The first failure it returns
  // stops the window: later results are waited for and dropped, and Submit and Drain return that
  // failure from then on.
  using Take = std::function<Status(Tag& tag, T result)>;

  struct Limits {
    size_t max_jobs = 2;
    uint64_t max_bytes = std::numeric_limits<uint64_t>::max();
  };
  // Two jobs per worker: one running, one queued behind it.
  static Limits TwoPerWorker(int threads) { return {static_cast<size_t>(Workers(threads)) * 2}; }

  OrderedWindow(int threads, Limits limits, Take take)
      : limits_(limits), take_(std::move(take)), pool_(Workers(threads)) {}

  // Takes results back until `bytes` more fit (a job alone in the window always fits), then
  // queues `job`, a callable returning T.
  template <typename F>
  Status Submit(Tag tag, uint64_t bytes, F job) {
    while (!in_flight_.empty() && (in_flight_.size() >= limits_.max_jobs ||
                                   bytes_in_flight_ + bytes > limits_.max_bytes)) {
      TakeOldest();
    }
    if (!failure_.ok()) return failure_;
    bytes_in_flight_ += bytes;
    in_flight_.push_back({std::move(tag), bytes, pool_.Submit(std::move(job))});
    return OkStatus();
  }
  template <typename F>
  Status Submit(Tag tag, F job) {
    return Submit(std::move(tag), 0, std::move(job));
  }

  // Takes every result back; the first failure, if any.
  Status Drain() {
    while (!in_flight_.empty()) TakeOldest();
    return failure_;
  }

 private:
  struct InFlight {
    Tag tag;
    uint64_t bytes;
    std::future<T> done;
  };

  static int Workers(int threads) { return threads < 1 ? 1 : threads; }

  void TakeOldest() {
    InFlight job = std::move(in_flight_.front());
    in_flight_.pop_front();
    bytes_in_flight_ -= job.bytes;
    T result = job.done.get();
    if (failure_.ok()) failure_ = take_(job.tag, std::move(result));
  }

  const Limits limits_;
  Take take_;
  std::deque<InFlight> in_flight_;
  uint64_t bytes_in_flight_ = 0;
  Status failure_;
  // Last: destroyed first, so queued jobs finish while what they use still exists.
  WorkPool pool_;
};

}  // namespace chatvault::backup
