// How long the vault takes to answer, per route, as Prometheus histograms
// (keyvaultd_request_duration_seconds): from the moment a whole request is in to the moment its
// reply is written, so it covers the wait for a worker, the store's fsync or etcd round trip,
// the crypto and the write, but not a slow client's upload. Routes are a fixed list; anything
// else is counted as "other", so a client cannot create label values.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace chatvault::vault {

class LatencyHistograms {
 public:
  static constexpr std::array<std::string_view, 9> kRoutes = {
      "/v1/challenge",       "/v1/register/start", "/v1/register/finish",
      "/v1/recover/start",   "/v1/recover/finish", "/v1/delete",
      "/v1/backup-sequence", "/v1/health",         "/metrics"};
  static constexpr size_t kOther = kRoutes.size();
  // Upper bounds in seconds: an fsync takes a millisecond or more, an etcd quorum write across
  // sites tens of milliseconds, and the store gives up after a few seconds.
  static constexpr std::array<double, 14> kBuckets = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  // The index of `path` in kRoutes, or kOther.
  static size_t RouteIndex(std::string_view path);

  void Observe(size_t route, std::chrono::steady_clock::duration took);
  std::string RenderPrometheus() const;

 private:
  struct Histogram {
    std::array<std::atomic<uint64_t>, kBuckets.size() + 1> buckets{};  // the last one: +Inf
    std::atomic<uint64_t> sum_ns{0};
  };
  std::array<Histogram, kRoutes.size() + 1> routes_;
};

}  // namespace chatvault::vault
