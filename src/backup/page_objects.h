// Storing and fetching the database's page objects: packs ("packs/<id>", purpose "pack-<id>") and
// the page hash lists beside base chunks and packs ("pagehashes/<id>", purpose
// "pagehashes-<id>"). Like a chunk, each object is sealed for its own name, so an object stored
// under another's name (a swap, or a pack of another backup) fails authentication.
#pragma once

#include <string>

#include "backup/sealed_object.h"
#include "chatvault/common/bytes.h"
#include "chatvault/key/backup_key.h"
#include "chatvault/storage/provider.h"

namespace chatvault::backup {

class PageObjectCodec {
 public:
  // Packs are small and written once per backup, so they get a stronger zstd level than chunks:
  // level 6 makes a day's changed pages about 6% smaller than level 3 and still compresses
  // about 30 MB/s (docs/BACKUP.md).
  static constexpr int kPackZstdLevel = 6;
  // With level 1's window (512 KiB) instead of level 6's (2 MiB): a reader allocates the window
  // for each object, and four times the memory touched per object made restores of a folded
  // database measurably slower (docs/BACKUP.md); on packs it costs 0.6% of their size.
  static constexpr int kZstdWindowLog = 19;

  explicit PageObjectCodec(const key::BackupKey& key);

  // 64 hex digits: HMAC-SHA256(HKDF(K, "pack-id"), plaintext).
  std::string PackIdOf(ByteView plaintext) const;

  // Each returns the encrypted bytes written, 0 when the object was already there.
  Result<uint64_t> StorePack(storage::Provider& provider, const std::string& id,
                             ByteView plaintext) const;
  Result<uint64_t> StorePageHashes(storage::Provider& provider, const std::string& id,
                                   ByteView plaintext) const;

  // Downloads and authenticates. A missing or damaged object is kCorrupted naming it.
  Result<Bytes> LoadPack(storage::Provider& provider, const std::string& id, uint64_t size) const;
  Result<Bytes> LoadPageHashes(storage::Provider& provider, const std::string& id) const;

 private:
  const key::BackupKey& key_;
  KeyedId pack_ids_;
};

}  // namespace chatvault::backup
