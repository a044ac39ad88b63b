#include "backup/chunk_codec.h"

#include "backup/layout.h"
#include "chatvault/crypto/hash.h"
#include "chatvault/crypto/hkdf.h"
#include "chatvault/format/container.h"

namespace chatvault::backup {

ChunkCodec::ChunkCodec(const key::BackupKey& key)
    : key_(key), id_key_(crypto::DeriveSubkey(key.secret(), {}, "chunk-id")) {}

std::string ChunkCodec::IdOf(ByteView plaintext) const {
  return HexEncode(crypto::HmacSha256(id_key_.view(), plaintext));
}

Result<uint64_t> ChunkCodec::Store(storage::Provider& provider, const std::string& id,
                                   ByteView plaintext) const {
  format::EncryptOptions options;
  options.purpose = "chunk";
  CV_ASSIGN_OR_RETURN(Bytes sealed, format::EncryptBytes(key_, options, plaintext));
  Status s = provider.PutIfAbsent(ChunkName(id), sealed);
  if (s.code() == Code::kAlreadyExists) return uint64_t{0};
  if (!s.ok()) return s.Annotate("uploading a chunk to " + provider.Describe());
  return static_cast<uint64_t>(sealed.size());
}

Result<Bytes> ChunkCodec::Load(storage::Provider& provider, const std::string& id,
                               uint64_t size) const {
  auto sealed = provider.Get(ChunkName(id));
  if (!sealed.ok()) {
    if (sealed.status().code() == Code::kNotFound) {
      return Corrupted("chunk " + id.substr(0, 16) + " is missing from the backup");
    }
    return sealed.status();
  }
  auto plain = format::DecryptBytes(key_, "chunk", *sealed);
  if (!plain.ok()) {
    const Status& s = plain.status();
    if (s.code() == Code::kWrongKey) {
      return WrongKey("this backup was made with a different key");
    }
    return Status(s.code(), "chunk " + id.substr(0, 16) + ": " + s.message());
  }
  const Bytes mac = crypto::HmacSha256(id_key_.view(), *plain);
  auto expected = HexDecode(id);
  if (!expected.ok() || !crypto::ConstantTimeEqual(mac, *expected) || plain->size() != size) {
    return Corrupted("chunk " + id.substr(0, 16) +
                     " holds different content than its name says (objects were swapped)");
  }
  return std::move(plain).value();
}

}  // namespace chatvault::backup
