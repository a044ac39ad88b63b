// What a realm keeps per account (docs/REALMS.md): the share the device registered, the guess
// counter in front of it, the device key that may replace or delete it, and the newest backup's
// number as the device signed it. A tombstone keeps the version, the counter and the device key;
// a deleted record keeps nothing of the user.
#pragma once

#include <array>
#include <string>

#include "chatvault/crypto/signature.h"
#include "chatvault/vault/account_record.h"
#include "chatvault/vault/guess_counter.h"
#include "chatvault/vaultproto/realm_protocol.h"

namespace chatvault::vault {

struct RealmRecord {
  enum class State : uint8_t { kActive = 1, kTombstone = 2, kDeleted = 3 };
  State state = State::kActive;
  vaultproto::realm::Version version{};
  GuessCounter guesses;
  crypto::VerifyKey device_key{};
  std::array<uint8_t, 32> registration_id{};  // SHA-256 of the registration request's payload
  BackupSequence backup_sequence;             // kept across registrations with the same key
  vaultproto::realm::RealmShare share;        // active records only

  bool active() const { return state == State::kActive; }
  const vaultproto::realm::Version& registration() const { return version; }
  RealmRecord Tombstone() const;
  Bytes Serialize() const;
  static Result<RealmRecord> Parse(ByteView in);
};

std::string RealmStoreKey(std::string_view account);

}  // namespace chatvault::vault
