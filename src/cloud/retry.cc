#include "chatvault/cloud/retry.h"

#include <algorithm>
#include <random>

namespace chatvault::cloud {

std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int attempt) {
  if (attempt < 2) return std::chrono::milliseconds(0);
  const int doublings = std::min(attempt - 2, 30);
  const int64_t base = policy.initial_delay.count();
  const int64_t cap = policy.max_delay.count();
  const int64_t ceiling = std::min(cap, base << std::min(doublings, 62 - 34));
  // Jitter only spreads load; it needs no cryptographic randomness.
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int64_t> pick(0, std::max<int64_t>(ceiling, 0));
  return std::chrono::milliseconds(pick(rng));
}

}  // namespace chatvault::cloud
