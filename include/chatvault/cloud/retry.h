// How cloud providers retry: a failed request is repeated when the failure is one a retry can
// cure (connection refused or dropped, timeout, HTTP 5xx, 429), with exponential backoff and
// full jitter so many clients recovering at once do not stampede the server.
#pragma once

#include <chrono>

namespace chatvault::cloud {

struct RetryPolicy {
  int max_attempts = 6;                              // first try included
  std::chrono::milliseconds initial_delay{200};      // before the second try
  std::chrono::milliseconds max_delay{10'000};       // cap for any single wait
  std::chrono::milliseconds request_timeout{120'000};  // a whole request, transfer included
  std::chrono::milliseconds connect_timeout{10'000};
  // A transfer slower than 1 KiB/s for this long is treated as stalled and retried.
  std::chrono::seconds stall_timeout{30};
};

// The wait before attempt number `attempt` (2 = first retry): a uniformly random duration in
// [0, min(max_delay, initial_delay * 2^(attempt-2))].
std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int attempt);

}  // namespace chatvault::cloud
