// The 3DH key exchange of RFC 9807 section 6.4: transcript preamble, key schedule and MACs.
#pragma once

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/opaque/messages.h"

namespace chatvault::opaque::internal {

// "OPAQUEv1-" || I2OSP(len(context),2) || context || I2OSP(len(client_identity),2) ||
// client_identity || ke1 || I2OSP(len(server_identity),2) || server_identity ||
// credential_response || server_nonce || server_public_keyshare
Result<Bytes> Preamble(ByteView context, ByteView client_identity, const KE1& ke1,
                       ByteView server_identity, const KE2& ke2);

struct AkeKeys {
  crypto::Secret handshake_secret;
  crypto::Secret session_key;
  crypto::Secret server_mac_key;  // Km2
  crypto::Secret client_mac_key;  // Km3
};
// ikm = dh1 || dh2 || dh3 (96 bytes).
AkeKeys DeriveAkeKeys(ByteView ikm, ByteView preamble);

// MAC(Km2, Hash(preamble))
Bytes ServerMac(const AkeKeys& keys, ByteView preamble);
// MAC(Km3, Hash(preamble || server_mac))
Bytes ClientMac(const AkeKeys& keys, ByteView preamble, ByteView server_mac);

}  // namespace chatvault::opaque::internal
