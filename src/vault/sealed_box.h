// AES-256-GCM with a fresh random nonce per message: nonce(12) || ciphertext || tag(16). The
// associated data names the purpose and whatever the box is bound to (an account, a store key),
// so a box made for one thing never opens as another.
#pragma once

#include <string_view>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"

namespace chatvault::vault {

Result<Bytes> SealBox(const crypto::Secret& key, ByteView aad, ByteView plaintext);
// kCorrupted when the box was changed, made under another key or for other associated data. The
// plaintext comes back as a Secret: boxes carry login state.
Result<crypto::Secret> OpenBox(const crypto::Secret& key, ByteView aad, ByteView box);

// The keys keyvaultd derives from the master secret that its HSM unwraps at start, one per use,
// so no key serves two purposes.
struct VaultKeys {
  static VaultKeys Derive(const crypto::Secret& master);
  crypto::Secret record;      // seals account records at rest
  crypto::Secret challenge;   // seals the challenges handed to devices
  crypto::Secret login;       // seals the login state a client carries from KE2 to KE3
  crypto::Secret login_seed;  // derives each login's server randomness from its KE1
};

}  // namespace chatvault::vault
