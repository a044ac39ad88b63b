// Ed25519 signatures (libsodium): a device proves it holds the backup key by signing a vault
// challenge with a key pair derived from it, so the vault stores only a public key and a captured
// proof is worth nothing for any other challenge.
#pragma once

#include <array>

#include "chatvault/common/bytes.h"
#include "chatvault/crypto/secret.h"

namespace chatvault::crypto {

inline constexpr size_t kSigningSeedSize = 32;
inline constexpr size_t kVerifyKeySize = 32;
inline constexpr size_t kSignatureSize = 64;

using VerifyKey = std::array<uint8_t, kVerifyKeySize>;
using Signature = std::array<uint8_t, kSignatureSize>;

class SigningKey {
 public:
  // The same 32-byte seed always gives the same key pair. Aborts on a seed of another size (a
  // programming error: seeds come from HKDF with a fixed length).
  static SigningKey FromSeed(const Secret& seed);

  const VerifyKey& verify_key() const { return verify_key_; }
  Signature Sign(ByteView message) const;

 private:
  SigningKey() = default;
  Secret secret_key_;  // libsodium's 64-byte form: seed || public key
  VerifyKey verify_key_{};
};

// True only for a valid signature of `message` under `key` (libsodium rejects non-canonical and
// small-order encodings).
bool VerifySignature(const VerifyKey& key, ByteView message, ByteView signature);

}  // namespace chatvault::crypto
