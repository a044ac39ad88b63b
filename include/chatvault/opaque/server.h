// OPAQUE server (RFC 9807, ristretto255-SHA512, OPAQUE-3DH).
//
//   ServerSetup::Generate(identity) once; persist Serialize() as a secret (HSM-wrapped by the
//   vault). Registration: setup.CreateRegistrationResponse(request, credential_identifier) ->
//   response;
//                 store the client's RegistrationRecord (and its KsfParams) under that identifier.
//   Login:        setup.StartLogin(record, credential_identifier, ke1, client_identity) -> ke2();
//                 for an unknown identifier use StartFakeLogin(...) instead, so the reply is
//                 indistinguishable (RFC 9807 sec. 10.9, C.2);
//                 then login.Finish(ke3) -> session_key, or kPermissionDenied.
//                 A server that keeps no memory between KE2 and KE3 seals login.SerializeState()
//                 and later calls ServerLogin::ParseState(...).Finish(ke3).
#pragma once

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/opaque/client.h"
#include "chatvault/opaque/messages.h"

namespace chatvault::opaque {

class ServerLogin;

class ServerSetup {
 public:
  // Fresh oprf_seed (kNh bytes) and AKE key pair. `server_identity` may be empty (the public key
  // is used then).
  static ServerSetup Generate(ByteView server_identity = {});

  // Secret serialization: version(1) || oprf_seed(64) || server_private_key(32) ||
  // I2OSP(len(server_identity), 2) || server_identity.
  crypto::Secret Serialize() const;
  static Result<ServerSetup> Parse(ByteView in);

  const Element& public_key() const { return public_key_; }
  const Bytes& identity() const { return identity_; }

  // kInvalidArgument for an empty credential_identifier.
  Result<RegistrationResponse> CreateRegistrationResponse(const RegistrationRequest& request,
                                                          ByteView credential_identifier) const;

  // `client_identity` must be what the client passes in Identities::client (empty = its public
  // key from the record).
  Result<ServerLogin> StartLogin(const RegistrationRecord& record, ByteView credential_identifier,
                                 const KE1& ke1, ByteView client_identity = {},
                                 ByteView context = AsBytes(kChatvaultContext)) const;

  // For an unknown credential_identifier: a KE2 that looks like a real one. The fake record
  // (masking_key, client public key) is derived from oprf_seed and the identifier, so repeated
  // attempts for the same unknown user get consistent-looking replies. Finish() on the result
  // always fails with kPermissionDenied.
  Result<ServerLogin> StartFakeLogin(ByteView credential_identifier, const KE1& ke1,
                                     ByteView client_identity = {},
                                     ByteView context = AsBytes(kChatvaultContext)) const;

  // The same logins with the server's nonces and key share drawn from `seed` (32 bytes, secret)
  // instead of the CSPRNG: one seed and one KE1 always give the same KE2. A server that derives
  // the seed from a secret key and the KE1 can answer a retried KE1 with the KE2 it already
  // counted, and a fresh KE1 still gets fresh, unpredictable values.
  Result<ServerLogin> StartLoginSeeded(const RegistrationRecord& record,
                                       ByteView credential_identifier, const KE1& ke1,
                                       const crypto::Secret& seed) const;
  Result<ServerLogin> StartFakeLoginSeeded(ByteView credential_identifier, const KE1& ke1,
                                           const crypto::Secret& seed) const;

  ServerSetup(ServerSetup&&) noexcept = default;
  ServerSetup& operator=(ServerSetup&&) noexcept = default;

 private:
  friend struct Deterministic;
  ServerSetup() = default;
  crypto::Secret oprf_seed_;
  crypto::Secret private_key_;
  Element public_key_{};
  Bytes identity_;
};

class ServerLogin {
 public:
  const KE2& ke2() const { return ke2_; }
  // Checks the client's MAC in constant time. kPermissionDenied if it does not match (wrong
  // password, unknown user, or tampering). Returns the session key (kNx bytes).
  Result<crypto::Secret> Finish(const KE3& ke3) &&;

  // What Finish needs (the expected client MAC and the session key), for a server that seals it
  // and hands it to the client instead of keeping it. It is secret: seal it before it leaves.
  crypto::Secret SerializeState() const;
  // kInvalidArgument for a state of the wrong size. The result has no KE2; only Finish works.
  static Result<ServerLogin> ParseState(ByteView state);
  static constexpr size_t kStateSize = kNm + kNx;

  ServerLogin(ServerLogin&&) noexcept = default;
  ServerLogin& operator=(ServerLogin&&) noexcept = default;

 private:
  friend struct Deterministic;
  friend class ServerSetup;
  ServerLogin() = default;
  KE2 ke2_;
  crypto::Secret expected_client_mac_;
  crypto::Secret session_key_;
};

}  // namespace chatvault::opaque
