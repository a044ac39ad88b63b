#include "vault/latency_histograms.h"

#include <cstdio>

namespace chatvault::vault {
namespace {

std::string Number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

}  // namespace

size_t LatencyHistograms::RouteIndex(std::string_view path) {
  for (size_t i = 0; i < kRoutes.size(); ++i) {
    if (kRoutes[i] == path) return i;
  }
  return kOther;
}

void LatencyHistograms::Observe(size_t route, std::chrono::steady_clock::duration took) {
  Histogram& h = routes_[route < routes_.size() ? route : kOther];
  const double seconds = std::chrono::duration<double>(took).count();
  size_t bucket = 0;
  while (bucket < kBuckets.size() && seconds > kBuckets[bucket]) ++bucket;
  h.buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(took).count();
  h.sum_ns.fetch_add(ns > 0 ? static_cast<uint64_t>(ns) : 0, std::memory_order_relaxed);
}

std::string LatencyHistograms::RenderPrometheus() const {
  constexpr const char* kName = "keyvaultd_request_duration_seconds";
  std::string out = std::string("# HELP ") + kName +
                    " Time from a complete request to its written reply, per route.\n" + "# TYPE " +
                    kName + " histogram\n";
  for (size_t r = 0; r < routes_.size(); ++r) {
    const Histogram& h = routes_[r];
    const std::string route = r < kRoutes.size() ? std::string(kRoutes[r]) : "other";
    // Prometheus buckets are cumulative; each is read once, so "+Inf" equals _count even while
    // requests are being counted.
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= kBuckets.size(); ++b) {
      cumulative += h.buckets[b].load(std::memory_order_relaxed);
      const std::string le = b < kBuckets.size() ? Number(kBuckets[b]) : "+Inf";
      out += std::string(kName) + "_bucket{route=\"" + route + "\",le=\"" + le + "\"} " +
             std::to_string(cumulative) + "\n";
    }
    out += std::string(kName) + "_sum{route=\"" + route + "\"} " +
           Number(static_cast<double>(h.sum_ns.load(std::memory_order_relaxed)) / 1e9) + "\n";
    out +=
        std::string(kName) + "_count{route=\"" + route + "\"} " + std::to_string(cumulative) + "\n";
  }
  return out;
}

}  // namespace chatvault::vault
