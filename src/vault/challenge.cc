#include "vault/challenge.h"

#include "vault/sealed_box.h"

namespace chatvault::vault {
namespace {

constexpr size_t kPlainSize = 16;  // u64 store version || u64 expiry

Bytes ChallengeAad(std::string_view scope) {
  Bytes aad = ToBytes("chatvault/v1/vault-challenge/");
  Append(aad, AsBytes(scope));
  return aad;
}

}  // namespace

Result<Bytes> ChallengeIssuer::Issue(std::string_view scope, uint64_t store_version,
                                     int64_t now_unix) const {
  Bytes plain;
  AppendU64BE(plain, store_version);
  AppendU64BE(plain, static_cast<uint64_t>(now_unix + ttl_.count()));
  return SealBox(key_, ChallengeAad(scope), plain);
}

Result<uint64_t> ChallengeIssuer::Check(std::string_view scope, ByteView challenge,
                                        int64_t now_unix) const {
  auto plain = OpenBox(key_, ChallengeAad(scope), challenge);
  if (!plain.ok() || plain->size() != kPlainSize) {
    return PermissionDenied("the challenge was not issued by this vault for this record");
  }
  const uint64_t expiry = ReadU64BE(plain->data() + 8);
  if (expiry < static_cast<uint64_t>(now_unix)) {
    return Conflict("the vault's challenge expired; ask for a new one");
  }
  return ReadU64BE(plain->data());
}

}  // namespace chatvault::vault
