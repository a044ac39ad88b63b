// What the vault keeps per account, and how it is sealed at rest.
//
// An active record holds the OPAQUE registration record, the KSF parameters the client used, K
// wrapped by the client under a key from the OPAQUE export key (the vault cannot open it), the
// guess counter, and the device key: the Ed25519 public key of a key pair the device derives
// from K, with which it signs every request that replaces or deletes the record. A tombstone is
// what is left after a lockout: only the device key, so the original device can register again
// and nobody else can. A deleted record ("disable") keeps nothing of the user: it only stops the
// store version from ever starting again at "absent", so no request signed for an earlier
// record can apply to a later one (docs/SECURITY.md, "Replay").
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/crypto/signature.h"
#include "chatvault/opaque/ksf.h"
#include "chatvault/opaque/messages.h"
#include "chatvault/vault/guess_counter.h"

namespace chatvault::vault {

inline constexpr size_t kGenerationSize = 16;
inline constexpr size_t kRegistrationIdSize = 32;
inline constexpr size_t kMaxWrappedKeySize = 256;

// The newest backup the device committed, in a statement the device signed with its device key:
// a new phone that recovers K can check it, so the vault cannot make a backup look newer.
struct BackupSequence {
  uint64_t sequence = 0;
  crypto::Signature signature{};
};

struct AccountRecord {
  enum class State : uint8_t { kActive = 1, kTombstone = 2, kDeleted = 3 };
  State state = State::kActive;
  // Random per registration, so a login that started against an older registration can never
  // release the newer registration's wrapped key.
  std::array<uint8_t, kGenerationSize> generation{};
  GuessCounter guesses;
  crypto::VerifyKey device_key{};
  // SHA-256 of the registration request that made this record, so its retry is recognised.
  std::array<uint8_t, kRegistrationIdSize> registration_id{};
  BackupSequence backup_sequence;
  // Active records only:
  opaque::RegistrationRecord opaque_record;
  opaque::KsfParams ksf;
  Bytes wrapped_key;

  bool active() const { return state == State::kActive; }
  const std::array<uint8_t, kGenerationSize>& registration() const { return generation; }
  // What is left after a lockout: the generation, the counter and the device key.
  AccountRecord Tombstone() const;
  Bytes Serialize() const;
  static Result<AccountRecord> Parse(ByteView in);
};

// The store key of an account's record.
std::string AccountStoreKey(std::string_view account);

// AES-256-GCM under the record-sealing key with a fresh random nonce; the store key is bound in
// as associated data, so a sealed record cannot be moved to another account.
class RecordSealer {
 public:
  explicit RecordSealer(crypto::Secret key) : key_(std::move(key)) {}
  Result<Bytes> Seal(std::string_view store_key, ByteView plaintext) const;
  Result<Bytes> Open(std::string_view store_key, ByteView sealed) const;

 private:
  crypto::Secret key_;
};

}  // namespace chatvault::vault
