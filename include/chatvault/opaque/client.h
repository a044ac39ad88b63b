// OPAQUE client (RFC 9807, ristretto255-SHA512, OPAQUE-3DH).
//
// Registration:  ClientRegistration::Start(password) -> request() to the server
//                -> Finish(response, ...) -> record (upload to the server) + export_key.
// Login:         ClientLogin::Start(password) -> ke1() to the server
//                -> Finish(ke2, ...) -> ke3 (send to the server) + session_key + export_key.
//
// export_key is the same at registration and at every successful login and is never seen by the
// server: the vault client uses it to wrap the backup key K (see docs/OPAQUE.md).
// Both state objects are move-only and hold the OPRF blind and password as Secrets; use each once.
#pragma once

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/opaque/ksf.h"
#include "chatvault/opaque/messages.h"

namespace chatvault::opaque {

// The application context bound into every login transcript (RFC 9807 "context").
inline constexpr std::string_view kChatvaultContext = "chatvault/v1/opaque";

// Optional identities. Empty means "use the public key", as the RFC specifies. Client and server
// must agree on them, or login fails.
struct Identities {
  Bytes client;
  Bytes server;
};

struct ClientRegistrationResult {
  RegistrationRecord record;
  crypto::Secret export_key;  // kNh bytes
};

class ClientRegistration {
 public:
  // Fails (kInvalidArgument) only for an empty password.
  static Result<ClientRegistration> Start(ByteView password);
  const RegistrationRequest& request() const { return request_; }

  // Runs the KSF with `ksf` (which the server then stores with the record).
  // kInvalidArgument if the server's response contains an invalid element.
  Result<ClientRegistrationResult> Finish(const RegistrationResponse& response,
                                          const Identities& ids, const KsfParams& ksf) &&;

  ClientRegistration(ClientRegistration&&) noexcept = default;
  ClientRegistration& operator=(ClientRegistration&&) noexcept = default;

 private:
  friend struct Deterministic;
  ClientRegistration() = default;
  crypto::Secret password_;
  crypto::Secret blind_;
  RegistrationRequest request_;
};

struct ClientLoginResult {
  KE3 ke3;
  crypto::Secret session_key;  // kNx bytes, shared with the server after it checks KE3
  crypto::Secret export_key;   // kNh bytes, equal to the one from registration
};

class ClientLogin {
 public:
  static Result<ClientLogin> Start(ByteView password);
  const KE1& ke1() const { return ke1_; }

  // kPermissionDenied "wrong password or tampered server response" when the envelope does not
  // open or the server MAC does not verify (the two cannot be told apart, on purpose).
  Result<ClientLoginResult> Finish(const KE2& ke2, const Identities& ids, const KsfParams& ksf,
                                   ByteView context = AsBytes(kChatvaultContext)) &&;

  ClientLogin(ClientLogin&&) noexcept = default;
  ClientLogin& operator=(ClientLogin&&) noexcept = default;

 private:
  friend struct Deterministic;
  ClientLogin() = default;
  crypto::Secret password_;
  crypto::Secret blind_;
  crypto::Secret client_secret_;  // ephemeral keyshare private key
  KE1 ke1_;
};

}  // namespace chatvault::opaque
