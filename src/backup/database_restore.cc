#include "backup/database_restore.h"

#include <algorithm>

#include "backup/page_map.h"
#include "backup/page_pack.h"
#include "chatvault/crypto/hash.h"

namespace chatvault::backup {

PagedDatabaseRestore::PagedDatabaseRestore(const FileEntry& entry, const key::BackupKey& key)
    : entry_(entry),
      map_(*entry.pages),
      chunks_(key),
      objects_(key),
      hasher_(key),
      hashes_(map_.page_count) {
  for (size_t r = 0; r < entry.chunks.size(); ++r) {
    if (!entry.chunks[r].id.empty()) pieces_.push_back({false, r});
  }
  for (size_t q = 0; q < map_.packs.size(); ++q) {
    pieces_.push_back({true, q});
    packed_.insert(packed_.end(), map_.packs[q].live.begin(), map_.packs[q].live.end());
  }
  std::sort(packed_.begin(), packed_.end());
}

Result<uint64_t> PagedDatabaseRestore::Fetch(size_t i, storage::Provider& provider,
                                             const WriteFn& write) {
  const Piece piece = pieces_[i];
  return piece.is_pack ? FetchPack(piece.index, provider, write)
                       : FetchBase(piece.index, provider, write);
}

Status PagedDatabaseRestore::Put(ByteView data, uint64_t first, const WriteFn& write) {
  if (write) CV_RETURN_IF_ERROR(write(data, first * map_.page_size));
  const Bytes hashes = hasher_.Hash(data, map_.page_size);
  for (size_t k = 0; k < hashes.size() / kPageHashSize; ++k) {
    std::copy_n(hashes.begin() + static_cast<ptrdiff_t>(k * kPageHashSize), kPageHashSize,
                hashes_[first + k].begin());
  }
  return OkStatus();
}

// A base chunk gives its region's pages except those packs give and those past the end.
Result<uint64_t> PagedDatabaseRestore::FetchBase(uint64_t region, storage::Provider& provider,
                                                 const WriteFn& write) {
  const ChunkRef& ref = entry_.chunks[region];
  CV_ASSIGN_OR_RETURN(Bytes data, chunks_.Load(provider, ref.id, ref.size));
  const uint32_t page_size = map_.page_size;
  const uint64_t first = region * PagesPerRegion(page_size);
  const uint64_t end = first + std::min(BasePages(ref.size, page_size),
                                        PagesInRegion(region, map_.page_count, page_size));
  uint64_t written = 0;
  uint64_t page = first;
  auto next_packed = std::lower_bound(packed_.begin(), packed_.end(), first);
  while (page < end) {
    const uint64_t stop =
        next_packed != packed_.end() ? std::min<uint64_t>(*next_packed, end) : end;
    if (stop > page) {
      const ByteView run =
          ByteView(data).subspan((page - first) * page_size, (stop - page) * page_size);
      CV_RETURN_IF_ERROR(Put(run, page, write));
      written += run.size();
    }
    page = stop + 1;  // past the packed page (or the end)
    if (next_packed != packed_.end()) ++next_packed;
  }
  return written;
}

// A pack gives exactly the pages the manifest lists for it; each must be in it.
Result<uint64_t> PagedDatabaseRestore::FetchPack(size_t index, storage::Provider& provider,
                                                 const WriteFn& write) {
  const PackRef& pack = map_.packs[index];
  CV_ASSIGN_OR_RETURN(Bytes plain, objects_.LoadPack(provider, pack.id, pack.size));
  CV_ASSIGN_OR_RETURN(PackView view, ParsePack(plain, map_.page_size));
  if (view.pages.size() != pack.stored) {
    return Corrupted("pack " + pack.id.substr(0, 16) + " holds " +
                     std::to_string(view.pages.size()) + " pages where the manifest says " +
                     std::to_string(pack.stored));
  }
  size_t at = 0;
  for (uint32_t page : pack.live) {
    while (at < view.pages.size() && view.pages[at] < page) ++at;
    if (at == view.pages.size() || view.pages[at] != page) {
      return Corrupted("pack " + pack.id.substr(0, 16) + " does not hold page " +
                       std::to_string(uint64_t{page} + 1) + ", which the manifest takes from it");
    }
    CV_RETURN_IF_ERROR(Put(view.Page(at), page, write));
  }
  return uint64_t{pack.live.size()} * map_.page_size;
}

Status PagedDatabaseRestore::Check() const {
  crypto::Hasher sha(crypto::HashAlg::kSha256);
  sha.Update(ByteView(hashes_.front().data(), hashes_.size() * kPageHashSize));
  if (HexEncode(sha.Finish()) != map_.digest) {
    return Corrupted(
        "its pages do not add up to the database that was backed up (the page "
        "digest differs)");
  }
  return OkStatus();
}

}  // namespace chatvault::backup
