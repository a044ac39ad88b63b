// The credential half of OPAQUE (RFC 9807 sections 3-5): per-user OPRF keys, the randomized
// password, the envelope (Store/Recover) and the masking of the credential response.
#pragma once

#include <array>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/opaque/client.h"
#include "chatvault/opaque/ksf.h"
#include "chatvault/opaque/messages.h"
#include "opaque/group.h"

namespace chatvault::opaque::internal {

crypto::Secret Expand(ByteView prk, ByteView info, size_t length);
crypto::Secret Extract(ByteView salt, ByteView ikm);

// oprf_key = DeriveKeyPair(Expand(oprf_seed, id || "OprfKey", Nok), "OPAQUE-DeriveKeyPair").sk
Result<crypto::Secret> DeriveOprfKey(ByteView oprf_seed, ByteView credential_identifier);
// DeriveKeyPair(seed, "OPAQUE-DeriveDiffieHellmanKeyPair")
Result<KeyPair> DeriveDiffieHellmanKeyPair(ByteView seed);

// Extract("", oprf_output || Stretch(oprf_output))
Result<crypto::Secret> RandomizedPassword(ByteView password, ByteView blind,
                                          const Element& evaluated, const KsfParams& ksf);

// The identities as they enter the MAC and the transcript: empty ones replaced by public keys.
struct CleartextCredentials {
  Element server_public_key{};
  Bytes server_identity;
  Bytes client_identity;
  // server_public_key || I2OSP(len,2) || server_identity || I2OSP(len,2) || client_identity
  Bytes Serialize() const;
};
Result<CleartextCredentials> MakeCleartextCredentials(const Element& server_public_key,
                                                      const Element& client_public_key,
                                                      const Identities& ids);

struct StoredEnvelope {
  std::array<uint8_t, kEnvelopeSize> envelope{};
  Element client_public_key{};
  crypto::Secret masking_key;
  crypto::Secret export_key;
  crypto::Secret auth_key;  // exposed for the vector tests
};
Result<StoredEnvelope> StoreEnvelope(const crypto::Secret& randomized_password,
                                     const Element& server_public_key, const Identities& ids,
                                     ByteView envelope_nonce);

struct RecoveredEnvelope {
  crypto::Secret client_private_key;
  Element client_public_key{};
  CleartextCredentials credentials;
  crypto::Secret export_key;
};
// kPermissionDenied when the auth tag does not match (wrong password or tampered response).
Result<RecoveredEnvelope> RecoverEnvelope(const crypto::Secret& randomized_password,
                                          const Element& server_public_key, ByteView envelope,
                                          const Identities& ids);

// xor(Expand(masking_key, masking_nonce || "CredentialResponsePad", Npk + Nn + Nm), data); its
// own inverse, so it masks on the server and unmasks on the client.
std::array<uint8_t, KE2::kMaskedResponseSize> XorCredentialPad(
    ByteView masking_key, ByteView masking_nonce,
    const std::array<uint8_t, KE2::kMaskedResponseSize>& data);

}  // namespace chatvault::opaque::internal
