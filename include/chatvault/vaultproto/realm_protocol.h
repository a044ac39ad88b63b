// The realms protocol's shared definitions (docs/REALMS.md): what a device derives from the
// password and the OPRF output, what it signs for each realm, and the formats a realm stores and
// answers with, built the same way by keyvaultd (realm side) and the vault client (device side).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/crypto/signature.h"
#include "chatvault/key/backup_key.h"
#include "chatvault/opaque/ksf.h"
#include "chatvault/opaque/messages.h"

namespace chatvault::vaultproto::realm {

inline constexpr size_t kVersionSize = 16;
inline constexpr size_t kTagSize = 32;
inline constexpr size_t kMaxRealms = 8;
inline constexpr size_t kWrappedKeySize = 12 + 32 + 16;  // nonce || K || tag

// u64 registration time in milliseconds (big-endian) || 8 random bytes: versions of one account
// sort by age, so recovery can take the newest one that enough realms hold.
using Version = std::array<uint8_t, kVersionSize>;
Version NewVersion(int64_t now_unix_ms);
using Tag = std::array<uint8_t, kTagSize>;

// What registration gives realm `index` (1..n): docs/REALMS.md, "Registration", step 9.
struct RealmShare {
  Version version{};
  uint8_t threshold = 0;
  uint8_t realms = 0;
  uint8_t index = 0;
  opaque::KsfParams ksf;
  std::array<uint8_t, 32> oprf_share{};        // k_i (secret)
  opaque::Element public_key{};                // k_i * G
  crypto::VerifyKey verifying_key{};           // the registration signing key's public half
  crypto::Signature share_signature{};         // over ShareStatement(...)
  Tag commitment{};                            // KDF(r, "unlock-commitment")
  Tag unlock_tag{};                            // HMAC(unlock_key, "unlock-tag" || v || i)
  std::array<uint8_t, 32> encryption_share{};  // e_i (secret)
  Bytes wrapped_key;                           // K under the wrap key
  Tag share_mac{};  // HMAC(unlock_key, "share" || v || i || e_i || wrapped K)

  Bytes Serialize() const;
  static Result<RealmShare> Parse(ByteView in);
};

// Argon2id of the password, salted by account and version: access_key || encryption_seed.
struct StretchedPassword {
  crypto::Secret access_key;       // 32 bytes: the OPRF input
  crypto::Secret encryption_seed;  // 32 bytes: half of the wrap key
};
Result<StretchedPassword> StretchPassword(std::string_view password, std::string_view account,
                                          const Version& version, const opaque::KsfParams& ksf);

// From the OPRF output r.
struct UnlockSecrets {
  crypto::Secret unlock_key;
  Tag commitment{};
};
UnlockSecrets DeriveUnlock(const crypto::Secret& oprf_output);

Tag UnlockTag(const crypto::Secret& unlock_key, const Version& version, uint8_t index);
Tag ShareMac(const crypto::Secret& unlock_key, const Version& version, uint8_t index,
             ByteView encryption_share, ByteView wrapped_key);
// "chatvault/v1/realm-share" || v || t || n || i || pk_i
Bytes ShareStatement(const Version& version, uint8_t threshold, uint8_t realms, uint8_t index,
                     const opaque::Element& public_key);
// What a realm's unlock request proves: HMAC(unlock_tag_i, "unlock" || session).
Tag UnlockProof(const Tag& unlock_tag, std::string_view session);

// K under KDF(encryption_seed || e, "key-wrap"), bound to account and version.
Bytes WrapKey(const crypto::Secret& encryption_seed, const crypto::Secret& encryption_scalar,
              std::string_view account, const Version& version, const key::BackupKey& key);
Result<key::BackupKey> UnwrapKey(const crypto::Secret& encryption_seed,
                                 const crypto::Secret& encryption_scalar, std::string_view account,
                                 const Version& version, ByteView wrapped);

}  // namespace chatvault::vaultproto::realm
