#include "backup/page_state.h"

#include <algorithm>
#include <optional>

#include "backup/layout.h"
#include "backup/ordered_window.h"
#include "backup/page_map.h"
#include "backup/page_pack.h"

namespace chatvault::backup {
namespace {

bool IsDamage(const Status& s) {
  return s.code() == Code::kCorrupted || s.code() == Code::kTruncated;
}

// The page hash list stored beside object `id`: nullopt when there is none or it is damaged (the
// caller then reads the object itself); a provider failure as it is.
Result<std::optional<PageHashList>> StoredList(const PageStateSource& src, const std::string& id) {
  if (!src.stored.Contains(PageHashesName(id))) return std::optional<PageHashList>();
  auto plain = src.objects.LoadPageHashes(src.provider, id);
  if (!plain.ok()) {
    if (IsDamage(plain.status())) return std::optional<PageHashList>();
    return plain.status();
  }
  auto list = DecodePageHashList(*plain);
  if (!list.ok()) return std::optional<PageHashList>();
  return std::optional<PageHashList>(std::move(list).value());
}

// An object's page hashes: its stored list when there is one that reads, else the object itself
// hashed again. kCorrupted when neither can be read.
Result<PageHashList> HashesOfBase(const PageStateSource& src, const ChunkRef& ref,
                                  uint32_t page_size) {
  CV_ASSIGN_OR_RETURN(auto stored, StoredList(src, ref.id));
  if (stored && stored->pages.empty() && stored->count() == ref.size / page_size) return *stored;
  CV_ASSIGN_OR_RETURN(Bytes chunk, src.chunks.Load(src.provider, ref.id, ref.size));
  PageHashList list;
  list.hashes = src.hasher.Hash(chunk, page_size);
  return list;
}

Result<PageHashList> HashesOfPack(const PageStateSource& src, const PackRef& pack,
                                  uint32_t page_size) {
  CV_ASSIGN_OR_RETURN(auto stored, StoredList(src, pack.id));
  if (stored && stored->pages.size() == pack.stored && stored->count() == pack.stored) {
    return *stored;
  }
  CV_ASSIGN_OR_RETURN(Bytes plain, src.objects.LoadPack(src.provider, pack.id, pack.size));
  CV_ASSIGN_OR_RETURN(PackView view, ParsePack(plain, page_size));
  PageHashList list;
  list.pages = view.pages;
  list.hashes = src.hasher.Hash(view.data, page_size);
  return list;
}

Status WriteLivePages(const PageHashFile& file, const PackRef& pack, const PageHashList& list) {
  for (uint32_t page : pack.live) {
    auto it = std::lower_bound(list.pages.begin(), list.pages.end(), page);
    if (it == list.pages.end() || *it != page) {
      return Corrupted("pack " + pack.id.substr(0, 16) + " does not hold page " +
                       std::to_string(page + 1));
    }
    const size_t i = static_cast<size_t>(it - list.pages.begin());
    CV_RETURN_IF_ERROR(
        file.WriteAt(page, ByteView(list.hashes).subspan(i * kPageHashSize, kPageHashSize)));
  }
  return OkStatus();
}

// Rebuilds the list from the location: each base chunk's hashes at its region, then each pack's
// at the pages the manifest takes from it. Objects are fetched a few at a time.
class Rebuild {
 public:
  Rebuild(const PageStateSource& src, const FileEntry& current, PageHashFile& file)
      : src_(src),
        current_(current),
        map_(*current.pages),
        file_(file),
        window_(src.threads, OrderedWindow<Status, std::string>::TwoPerWorker(src.threads),
                [this](std::string& id, Status fetched) { return Settle(id, fetched); }) {}

  Result<std::unordered_set<std::string>> Run() {
    const uint32_t per = PagesPerRegion(map_.page_size);
    for (size_t r = 0; r < current_.chunks.size(); ++r) {
      const ChunkRef ref = current_.chunks[r];
      if (ref.id.empty()) continue;
      if (!src_.stored.Contains(ChunkName(ref.id))) {
        damaged_.insert(ref.id);
        continue;
      }
      const uint32_t pages = std::min(BasePages(ref.size, map_.page_size),
                                      PagesInRegion(r, map_.page_count, map_.page_size));
      const uint64_t first = uint64_t{r} * per;
      CV_RETURN_IF_ERROR(window_.Submit(ref.id, [this, ref, pages, first]() -> Status {
        CV_ASSIGN_OR_RETURN(PageHashList list, HashesOfBase(src_, ref, map_.page_size));
        return file_.WriteAt(first, ByteView(list.hashes).first(pages * kPageHashSize));
      }));
    }
    // The packs' pages go over their base chunks' hashes, so those must all be written first.
    CV_RETURN_IF_ERROR(window_.Drain());
    for (const PackRef& pack : map_.packs) {
      if (!src_.stored.Contains(PackName(pack.id))) {
        damaged_.insert(pack.id);
        continue;
      }
      CV_RETURN_IF_ERROR(window_.Submit(pack.id, [this, &pack]() -> Status {
        CV_ASSIGN_OR_RETURN(PageHashList list, HashesOfPack(src_, pack, map_.page_size));
        return WriteLivePages(file_, pack, list);
      }));
    }
    CV_RETURN_IF_ERROR(window_.Drain());
    return damaged_;
  }

 private:
  // A damaged object is remembered (the backup replaces it); anything else fails the rebuild.
  Status Settle(const std::string& id, const Status& fetched) {
    if (IsDamage(fetched)) {
      damaged_.insert(id);
      return OkStatus();
    }
    return fetched;
  }

  const PageStateSource& src_;
  const FileEntry& current_;
  const PageMap& map_;
  const PageHashFile& file_;
  std::unordered_set<std::string> damaged_;
  OrderedWindow<Status, std::string>
      window_;  // last: its jobs finish before anything they use goes
};

// The cache counts only when it holds exactly the current backup's page hashes.
std::optional<PageHashFile> MatchingCache(const std::string& path, const PageMap& map) {
  auto cache = PageHashFile::Open(path);
  if (!cache.ok() || cache->page_size() != map.page_size || cache->page_count() != map.page_count) {
    return std::nullopt;
  }
  auto digest = cache->Digest();
  if (!digest.ok() || *digest != map.digest) return std::nullopt;
  return std::move(cache).value();
}

}  // namespace

Result<OldPageHashes> LoadOldPageHashes(const PageStateSource& source, const FileEntry& current,
                                        const std::string& cache_path,
                                        const std::string& scratch_path) {
  const PageMap& map = *current.pages;
  if (!cache_path.empty()) {
    if (auto cache = MatchingCache(cache_path, map))
      return OldPageHashes{std::move(*cache), "cache", {}};
  }
  CV_ASSIGN_OR_RETURN(PageHashFile file,
                      PageHashFile::Create(scratch_path, map.page_size, map.page_count));
  CV_ASSIGN_OR_RETURN(auto damaged, Rebuild(source, current, file).Run());
  // With every object read, the rebuilt list must be the backup's own; pages of a missing or
  // damaged object stay zero and count as changed.
  if (damaged.empty()) {
    CV_ASSIGN_OR_RETURN(std::string digest, file.Digest());
    if (digest != map.digest) {
      return Corrupted("the page hashes at the location do not match the current backup");
    }
  }
  return OldPageHashes{std::move(file), "location", std::move(damaged)};
}

}  // namespace chatvault::backup
