// The state of a login between KE2 and KE3, sealed by the vault and carried by the client as the
// opaque `session` string. The vault keeps no memory per login: a slow phone may take minutes
// to stretch its password, any instance behind a load balancer can finish the login, and a flood
// of started logins costs no server memory. A session is bound to the account, the registration
// (generation) and the number of the guess it counted, which is what makes a valid KE3 count
// once (docs/SECURITY.md, "Replay").
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>

#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/vault/account_record.h"

namespace chatvault::vault {

// What a session is for; part of the sealing's associated data, so a session of one kind is never
// taken for another.
enum class SessionPurpose : uint8_t { kOpaqueLogin = 1, kRealmUnlock = 2 };

struct LoginSession {
  bool fake = false;  // a login for an unknown account: it can never succeed
  std::string account;
  std::array<uint8_t, kGenerationSize> generation{};  // the registration it belongs to
  uint64_t serial = 0;            // the counted guess this login spent
  crypto::Secret server_state;    // opaque::ServerLogin::SerializeState(), or empty
};

class LoginSessionSealer {
 public:
  LoginSessionSealer(crypto::Secret key, std::chrono::seconds ttl) : key_(std::move(key)), ttl_(ttl) {}

  // Lowercase hex, at most kMaxSessionText characters.
  Result<std::string> Seal(SessionPurpose purpose, const LoginSession& session,
                           int64_t now_unix) const;
  // kNotFound for a session that is expired, malformed, not made by this vault or made for
  // another purpose (the client starts the login again).
  Result<LoginSession> Open(SessionPurpose purpose, std::string_view text, int64_t now_unix) const;

  static constexpr size_t kMaxSessionText = 1024;

 private:
  crypto::Secret key_;
  std::chrono::seconds ttl_;
};

}  // namespace chatvault::vault
