// The transport's counters for GET /metrics: what the limits refused, so an operator sees an
// attack (or limits set too tight) before users report it.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace chatvault::vault {

struct TransportCounters {
  std::atomic<uint64_t> connections_accepted{0};
  std::atomic<uint64_t> tls_failures{0};      // handshakes that failed or ran out of time
  std::atomic<uint64_t> timeouts{0};          // header, body or reply deadlines missed
  std::atomic<uint64_t> busy_replies{0};      // 503: the queue in front of the workers was full
  std::atomic<uint64_t> refused_requests{0};  // 413, 415, 431, 501, 400 before the routes

  struct Gauges {
    uint64_t connections_open = 0;
    uint64_t connections_refused = 0;  // caps reached, nothing idle to close
    uint64_t connections_evicted = 0;  // idle kept-alive connections closed to make room
    uint64_t requests_queued = 0;
  };
  std::string RenderPrometheus(const Gauges& gauges) const;
};

}  // namespace chatvault::vault
