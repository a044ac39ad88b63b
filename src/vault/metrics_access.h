// Who may read GET /metrics. The counters tell an outsider how many logins fail and how busy the
// vault is, so they are off unless the operator opens them: with a bearer token (checked in
// constant time), on a separate listener (bound to a private interface), or both.
#pragma once

#include <string>

#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"

namespace chatvault::vault {

class MetricsAccess {
 public:
  enum class Decision { kServe, kNoSuchRoute, kUnauthorized };

  // `token_file` may be empty (no token); `own_listener`: a metrics listener exists.
  static Result<MetricsAccess> Load(const std::string& token_file, bool own_listener);

  // For a GET /metrics that arrived on the metrics listener or on the API listener, with the
  // request's Authorization field ("" when absent).
  Decision Check(bool on_metrics_listener, const std::string& authorization) const;

  bool needs_token() const { return !token_digest_.empty(); }
  bool own_listener() const { return own_listener_; }

 private:
  MetricsAccess(crypto::Secret token_digest, bool own_listener)
      : token_digest_(std::move(token_digest)), own_listener_(own_listener) {}

  crypto::Secret token_digest_;  // SHA-256 of the token, so comparing never depends on lengths
  bool own_listener_ = false;
};

}  // namespace chatvault::vault
