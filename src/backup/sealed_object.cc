#include "backup/sealed_object.h"

#include "chatvault/crypto/hash.h"
#include "chatvault/crypto/hkdf.h"

namespace chatvault::backup {

KeyedId::KeyedId(const key::BackupKey& key, std::string_view label)
    : id_key_(crypto::DeriveSubkey(key.secret(), {}, label)) {}

std::string KeyedId::Of(ByteView plaintext) const {
  return HexEncode(crypto::HmacSha256(id_key_.view(), plaintext));
}

Result<uint64_t> StoreSealed(storage::Provider& provider, const key::BackupKey& key,
                             const std::string& name, const format::EncryptOptions& options,
                             ByteView plaintext, std::string_view what) {
  CV_ASSIGN_OR_RETURN(Bytes sealed, format::EncryptBytes(key, options, plaintext));
  Status s = provider.PutIfAbsent(name, sealed);
  if (s.code() == Code::kAlreadyExists) return uint64_t{0};
  if (!s.ok()) return s.Annotate("uploading " + std::string(what) + " to " + provider.Describe());
  return static_cast<uint64_t>(sealed.size());
}

Result<Bytes> LoadSealed(storage::Provider& provider, const key::BackupKey& key,
                         const std::string& name, std::string_view purpose,
                         const std::string& what) {
  auto sealed = provider.Get(name);
  if (!sealed.ok()) {
    if (sealed.status().code() == Code::kNotFound) {
      return Corrupted(what + " is missing from the backup");
    }
    return sealed.status();
  }
  auto plain = format::DecryptBytes(key, purpose, *sealed);
  if (!plain.ok()) {
    if (plain.status().code() == Code::kWrongKey) {
      return WrongKey("this backup was made with a different key");
    }
    return plain.status().Annotate(what);
  }
  return std::move(plain).value();
}

Status CheckManifestSize(const Bytes& plaintext, uint64_t size, const std::string& what) {
  if (plaintext.size() != size) {
    return Corrupted(what + " has " + std::to_string(plaintext.size()) +
                     " bytes where the manifest says " + std::to_string(size));
  }
  return OkStatus();
}

}  // namespace chatvault::backup
