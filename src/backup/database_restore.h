// Restoring (or verifying) a database backed up page by page: every page comes from the one object
// the manifest names for it, base chunk or pack, and the page hashes of what was written must
// give the manifest's page digest (docs/BACKUP.md, "Restore").
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <vector>

#include "backup/chunk_codec.h"
#include "backup/manifest.h"
#include "backup/page_hash.h"
#include "backup/page_objects.h"
#include "chatvault/storage/provider.h"

namespace chatvault::backup {

class PagedDatabaseRestore {
 public:
  // `entry` must hold a page map (checked by ParseManifest) and outlive this object.
  PagedDatabaseRestore(const FileEntry& entry, const key::BackupKey& key);

  // The objects to fetch: base chunks, then packs. Fetch() may run for several at once.
  size_t PieceCount() const { return pieces_.size(); }
  // Writes bytes at an offset of the restored file; empty when only verifying.
  using WriteFn = std::function<Status(ByteView data, uint64_t offset)>;
  // Downloads and authenticates piece `i`, writes the pages restore takes from it, and records
  // their hashes. Returns the bytes of those pages.
  Result<uint64_t> Fetch(size_t i, storage::Provider& provider, const WriteFn& write);
  // After every piece: kCorrupted unless what was written has the manifest's page digest.
  Status Check() const;

 private:
  struct Piece {
    bool is_pack;
    size_t index;  // region, or pack
  };
  Result<uint64_t> FetchBase(uint64_t region, storage::Provider& provider, const WriteFn& write);
  Result<uint64_t> FetchPack(size_t pack, storage::Provider& provider, const WriteFn& write);
  // Writes `data` (whole pages) as pages first.. and records their hashes.
  Status Put(ByteView data, uint64_t first, const WriteFn& write);

  const FileEntry& entry_;
  const PageMap& map_;
  const ChunkCodec chunks_;
  const PageObjectCodec objects_;
  const PageHasher hasher_;
  std::vector<Piece> pieces_;
  std::vector<uint32_t> packed_;  // every page taken from a pack, ascending
  // One hash per page, filled by the pieces (disjoint pages, so workers never share an entry).
  std::vector<std::array<uint8_t, kPageHashSize>> hashes_;
};

}  // namespace chatvault::backup
