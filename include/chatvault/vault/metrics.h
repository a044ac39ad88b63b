// Counters keyvaultd exposes at GET /metrics in the Prometheus text format.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace chatvault::vault {

struct Metrics {
  std::atomic<uint64_t> registrations{0};
  std::atomic<uint64_t> guesses_counted{0};     // KE2s sent for real records (each one persisted)
  std::atomic<uint64_t> fake_logins{0};         // KE2s sent for unknown accounts
  std::atomic<uint64_t> recoveries{0};          // valid KE3s: wrapped key released
  std::atomic<uint64_t> wrong_passwords{0};     // invalid KE3s
  std::atomic<uint64_t> lockouts{0};            // records destroyed at the guess limit
  std::atomic<uint64_t> deletions{0};
  std::atomic<uint64_t> store_conflicts{0};     // compare-and-set retries
  std::atomic<uint64_t> rejected_requests{0};   // malformed, oversized, bad token
  std::atomic<uint64_t> store_errors{0};
  // SIGHUP reloads of the certificate, the token keys and the audit log (each counts once).
  std::atomic<uint64_t> reloads{0};
  std::atomic<uint64_t> reload_failures{0};    // a file was bad; the previous one stays
  std::atomic<int64_t> tls_not_after_unix{0};  // when the served certificate expires

  std::string RenderPrometheus() const;
};

}  // namespace chatvault::vault
