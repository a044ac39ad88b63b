// Challenges: what a device signs to replace or delete a vault record. A challenge is sealed by
// the vault (no state is kept, so any instance can check one another instance issued) and binds
// the account, the record's store version when it was issued, and an expiry. A signature over it
// is therefore good for one request against one state of one record, for a few minutes. The
// scope is the record's store key ("acct/<account>", "realm/<account>"), so a challenge for one
// kind of record is not one for another.
#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"

namespace chatvault::vault {

class ChallengeIssuer {
 public:
  ChallengeIssuer(crypto::Secret key, std::chrono::seconds ttl) : key_(std::move(key)), ttl_(ttl) {}

  Result<Bytes> Issue(std::string_view scope, uint64_t store_version, int64_t now_unix) const;
  // The store version the challenge was issued for. kPermissionDenied when it was not made by
  // this vault for this scope; kConflict when it expired (the device asks for a new one).
  Result<uint64_t> Check(std::string_view scope, ByteView challenge, int64_t now_unix) const;

 private:
  crypto::Secret key_;
  std::chrono::seconds ttl_;
};

}  // namespace chatvault::vault
