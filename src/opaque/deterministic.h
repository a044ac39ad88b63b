// TEST-ONLY entry points that take the protocol's randomness explicitly, so the RFC 9807 test
// vectors can be reproduced. Production code uses client.h / server.h, which draw every blind,
// nonce and seed from the OS CSPRNG; nothing outside src/opaque and tests/ may include this.
#pragma once

#include "chatvault/opaque/client.h"
#include "chatvault/opaque/server.h"

namespace chatvault::opaque {

struct Deterministic {
  static Result<ClientRegistration> StartRegistration(ByteView password, ByteView blind);
  static Result<ClientRegistrationResult> FinishRegistration(ClientRegistration&& state,
                                                             const RegistrationResponse& response,
                                                             const Identities& ids,
                                                             const KsfParams& ksf,
                                                             ByteView envelope_nonce);

  static Result<ClientLogin> StartLogin(ByteView password, ByteView blind, ByteView client_nonce,
                                        ByteView client_keyshare_seed);
  static Result<ClientLoginResult> FinishLogin(ClientLogin&& state, const KE2& ke2,
                                               const Identities& ids, const KsfParams& ksf,
                                               ByteView context);

  static Result<ServerSetup> MakeSetup(ByteView oprf_seed, ByteView server_private_key,
                                       ByteView server_identity);

  struct ServerRandomness {
    ByteView masking_nonce;
    ByteView server_nonce;
    ByteView server_keyshare_seed;
  };
  // The fake variant takes the fake record's client public key and masking key explicitly
  // (RFC 9807 C.2 vectors); the envelope is all zeros.
  static Result<ServerLogin> StartServerLogin(const ServerSetup& setup,
                                              const RegistrationRecord& record,
                                              ByteView credential_identifier, const KE1& ke1,
                                              ByteView client_identity, ByteView context,
                                              const ServerRandomness& rnd);
  static Result<ServerLogin> StartFakeServerLogin(const ServerSetup& setup,
                                                  const Element& fake_client_public_key,
                                                  ByteView fake_masking_key,
                                                  ByteView credential_identifier, const KE1& ke1,
                                                  ByteView client_identity, ByteView context,
                                                  const ServerRandomness& rnd);
};

}  // namespace chatvault::opaque
