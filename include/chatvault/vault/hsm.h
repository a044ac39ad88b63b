// The vault's hardware security module, reached through PKCS#11 (SoftHSM2 by default, loaded
// with p11-kit). It holds one AES-256 master key that never leaves the token (CKA_SENSITIVE,
// not extractable); the vault's long-term secrets are stored only wrapped under it, and are
// unwrapped into memory when keyvaultd starts.
#pragma once

#include <memory>
#include <string>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"

namespace chatvault::vault {

struct HsmConfig {
  std::string module_path;  // e.g. the libsofthsm2.so of the system
  std::string token_label;  // the token created by tools/vault/make-softhsm-token.sh
  std::string pin;          // user PIN (never logged)
  std::string key_label = "chatvault-vault-master";
};

class Hsm {
 public:
  // Loads the module, logs in to the token and finds the master key, generating it inside the
  // token on first use. kUnavailable when the module or token cannot be used; kPermissionDenied
  // for a wrong PIN.
  static Result<std::unique_ptr<Hsm>> Open(const HsmConfig& config);
  virtual ~Hsm() = default;

  // Random bytes from the token's generator.
  virtual Result<crypto::Secret> GenerateRandom(size_t size) = 0;
  // AES-256-GCM inside the token under the master key, with a fresh random IV:
  // returns iv(12) || ciphertext || tag(16). `aad` binds the blob to its purpose.
  virtual Result<Bytes> Wrap(ByteView secret, ByteView aad) = 0;
  // kCorrupted when the blob was changed or wrapped by another token's key.
  virtual Result<crypto::Secret> Unwrap(ByteView wrapped, ByteView aad) = 0;
};

}  // namespace chatvault::vault
