#include "backup/chunk_codec.h"

#include "backup/layout.h"
#include "chatvault/format/container.h"

namespace chatvault::backup {
namespace {

// A chunk's container is bound to its id: the purpose enters the container's key derivation and
// is authenticated in its header, so an object moved under another chunk's name fails to decrypt.
// That makes a second pass over the plaintext (recomputing the keyed id) unnecessary on restore.
std::string ChunkPurpose(const std::string& id) { return "chunk-" + id; }

}  // namespace

ChunkCodec::ChunkCodec(const key::BackupKey& key) : key_(key), ids_(key, "chunk-id") {}

std::string ChunkCodec::IdOf(ByteView plaintext) const { return ids_.Of(plaintext); }

Result<uint64_t> ChunkCodec::Store(storage::Provider& provider, const std::string& id,
                                   ByteView plaintext, int zstd_level) const {
  format::EncryptOptions options;
  options.purpose = ChunkPurpose(id);
  options.zstd_level = zstd_level;  // media is left as it is whatever the level (kAuto)
  // Level 1's window whatever the level: a reader allocates the window for every chunk.
  options.zstd_window_log = 19;
  return StoreSealed(provider, key_, ChunkName(id), options, plaintext, "a chunk");
}

Result<Bytes> ChunkCodec::Load(storage::Provider& provider, const std::string& id,
                               uint64_t size) const {
  const std::string what = "chunk " + ShortId(id);
  auto plain = LoadSealed(provider, key_, ChunkName(id), ChunkPurpose(id), what);
  if (!plain.ok()) {
    if (plain.status().detail() == Detail::kWrongPurpose) {
      return Corrupted(what + " holds another chunk's content (objects were swapped)");
    }
    return plain.status();
  }
  CV_RETURN_IF_ERROR(CheckManifestSize(*plain, size, what));
  return std::move(plain).value();
}

}  // namespace chatvault::backup
