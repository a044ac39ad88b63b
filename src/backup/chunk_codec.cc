#include "backup/chunk_codec.h"

#include "backup/layout.h"
#include "chatvault/crypto/hash.h"
#include "chatvault/crypto/hkdf.h"
#include "chatvault/format/container.h"

namespace chatvault::backup {
namespace {

// A chunk's container is bound to its id: the purpose enters the container's key derivation and
// is authenticated in its header, so an object moved under another chunk's name fails to decrypt.
// That makes a second pass over the plaintext (recomputing the keyed id) unnecessary on restore.
std::string ChunkPurpose(const std::string& id) { return "chunk-" + id; }

}  // namespace

ChunkCodec::ChunkCodec(const key::BackupKey& key)
    : key_(key), id_key_(crypto::DeriveSubkey(key.secret(), {}, "chunk-id")) {}

std::string ChunkCodec::IdOf(ByteView plaintext) const {
  return HexEncode(crypto::HmacSha256(id_key_.view(), plaintext));
}

Result<uint64_t> ChunkCodec::Store(storage::Provider& provider, const std::string& id,
                                   ByteView plaintext, int zstd_level) const {
  format::EncryptOptions options;
  options.purpose = ChunkPurpose(id);
  options.zstd_level = zstd_level;  // media is left as it is whatever the level (kAuto)
  // Level 1's window whatever the level: a reader allocates the window for every chunk.
  options.zstd_window_log = 19;
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
  auto plain = format::DecryptBytes(key_, ChunkPurpose(id), *sealed);
  if (!plain.ok()) {
    const Status& s = plain.status();
    if (s.code() == Code::kWrongKey) {
      return WrongKey("this backup was made with a different key");
    }
    if (s.detail() == Detail::kWrongPurpose) {
      return Corrupted("chunk " + id.substr(0, 16) +
                       " holds another chunk's content (objects were swapped)");
    }
    return Status(s.code(), "chunk " + id.substr(0, 16) + ": " + s.message());
  }
  if (plain->size() != size) {
    return Corrupted("chunk " + id.substr(0, 16) + " has " + std::to_string(plain->size()) +
                     " bytes where the manifest says " + std::to_string(size));
  }
  return std::move(plain).value();
}

}  // namespace chatvault::backup
