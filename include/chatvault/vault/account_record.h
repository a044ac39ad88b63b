// What the vault keeps per account, and how it is sealed at rest.
//
// An active record holds the OPAQUE registration record, the KSF parameters the client used, K
// wrapped by the client under a key from the OPAQUE export key (the vault cannot open it), the
// guess counter, and the re-authorisation verifier (SHA-256 of a proof the original device
// derives from K). A tombstone is what is left after a lockout: only the verifier, so the
// original device can register again and nobody else can.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/opaque/ksf.h"
#include "chatvault/opaque/messages.h"

namespace chatvault::vault {

inline constexpr size_t kVerifierSize = 32;
inline constexpr size_t kGenerationSize = 16;
inline constexpr size_t kMaxWrappedKeySize = 256;

struct AccountRecord {
  enum class State : uint8_t { kActive = 1, kTombstone = 2 };
  State state = State::kActive;
  // Random per registration, so a login that started against an older registration can never
  // release the newer registration's wrapped key.
  std::array<uint8_t, kGenerationSize> generation{};
  uint32_t failed_guesses = 0;
  std::array<uint8_t, kVerifierSize> verifier{};
  // Active records only:
  opaque::RegistrationRecord opaque_record;
  opaque::KsfParams ksf;
  Bytes wrapped_key;

  bool active() const { return state == State::kActive; }
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
