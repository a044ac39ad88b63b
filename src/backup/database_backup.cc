#include "backup/database_backup.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "backup/crash_point.h"
#include "backup/database_scan.h"
#include "backup/layout.h"
#include "backup/page_map.h"
#include "backup/page_pack.h"
#include "backup/page_state.h"
#include "backup/rebase_plan.h"
#include "chatvault/crypto/random.h"

namespace chatvault::backup {
namespace {

// A restore of the new backup may read at most this share more than a fresh full backup of the
// same data (the restore target), and its database part at most twice the database.
constexpr double kRestoreOverhead = 0.2;
// An incremental backup that rewrites at most this many base chunks compresses them harder, like
// packs; a backup that rewrites more is closer to a full one and keeps chunk speed.
constexpr uint64_t kFewChunks = 32;
// Job tags for the uploader: below it a region, from it on a new pack.
constexpr size_t kPackTag = size_t{1} << 40;

// Scratch files of a backup live beside the cache when there is one, under a hidden name that
// the next backup removes if a crash left them; else in the work directory, removed when done.
constexpr std::string_view kScratchPrefix = ".database-pages.tmp-";

void RemoveStaleScratch(const std::string& cache_dir) {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(cache_dir, ec)) {
    if (e.path().filename().string().starts_with(kScratchPrefix)) {
      std::filesystem::remove(e.path(), ec);
    }
  }
}

// Reads pages of the snapshot wherever they are.
class SnapshotFile {
 public:
  explicit SnapshotFile(const std::string& path)
      : path_(path), fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
  ~SnapshotFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  SnapshotFile(const SnapshotFile&) = delete;
  SnapshotFile& operator=(const SnapshotFile&) = delete;

  // Appends `size` bytes from `offset` to `out`.
  Status ReadAppend(uint64_t offset, size_t size, Bytes& out) const {
    if (fd_ < 0) return IoError("cannot open " + path_ + ": " + std::strerror(errno));
    const size_t start = out.size();
    out.resize(start + size);
    size_t done = 0;
    while (done < size) {
      const ssize_t n =
          ::pread(fd_, out.data() + start + done, size - done, static_cast<off_t>(offset + done));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return IoError("cannot read the database snapshot " + path_);
      done += static_cast<size_t>(n);
    }
    return OkStatus();
  }

 private:
  std::string path_;
  int fd_;
};

// Sorted `a` without the sorted `b`.
std::vector<uint32_t> Without(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  std::vector<uint32_t> out;
  out.reserve(a.size());
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// Calls `fn(first, count)` for each run of consecutive pages of the ascending `pages`.
template <typename Fn>
Status ForEachRun(const std::vector<uint32_t>& pages, Fn fn) {
  for (size_t i = 0; i < pages.size();) {
    size_t j = i + 1;
    while (j < pages.size() && pages[j] == pages[j - 1] + 1) ++j;
    CV_RETURN_IF_ERROR(fn(pages[i], j - i));
    i = j;
  }
  return OkStatus();
}

}  // namespace

std::string PageCachePath(const std::string& cache_dir) { return cache_dir + "/database-pages"; }

std::string DatabaseBackup::ScratchPath(const std::string& what) const {
  const std::string tag = what + "-" + HexEncode(crypto::RandomBytes(6));
  if (options_.cache_dir.empty()) return work_dir_ + "/chatvault-pages-" + tag + ".tmp";
  return options_.cache_dir + "/" + std::string(kScratchPrefix) + tag;
}

// One Run() call: the state the steps share.
class DatabaseBackup::OneRun {
 public:
  OneRun(DatabaseBackup& owner, const std::string& snapshot, const DatabaseShape& shape,
         FileEntry& entry)
      : o_(owner),
        snapshot_path_(snapshot),
        snapshot_(snapshot),
        shape_(shape),
        entry_(entry),
        per_region_(PagesPerRegion(shape.page_size)),
        regions_(RegionCount(shape.page_count, shape.page_size)),
        uploader_(owner.provider_, owner.chunks_, owner.stored_, owner.options_.threads,
                  [this](const ChunkUploader::Stored& s) { Record(s); }) {
    entry_.size = shape.page_count * shape.page_size;
    entry_.chunks.assign(regions_, ChunkRef{});
    entry_.pages.emplace();
    entry_.pages->page_size = shape.page_size;
    entry_.pages->page_count = shape.page_count;
  }

  // Compares with the current backup's pages when it can, else writes a fresh base.
  Status Go(const FileEntry* current, uint64_t media_bytes,
            const std::function<void(uint64_t)>& progress) {
    std::string why_fresh;
    CV_ASSIGN_OR_RETURN(std::optional<OldPageHashes> old, Comparison(current, why_fresh));
    o_.new_hashes_path_ = o_.ScratchPath("new");
    CV_ASSIGN_OR_RETURN(
        PageHashFile hashes,
        PageHashFile::Create(o_.new_hashes_path_, shape_.page_size, shape_.page_count));
    ScanOptions scan;
    scan.threads = 2;
    scan.take_buffer = [this] { return uploader_.TakeBuffer(); };
    scan.give_buffer = [this](Bytes b) { uploader_.GiveBuffer(std::move(b)); };
    scan.progress = progress;
    if (!old) {
      // No comparison: every region goes straight to the upload as it is read.
      summary().compared_with = "fresh base: " + why_fresh;
      scan.sink = [this](uint64_t region, Bytes data, Bytes page_hashes) {
        return SubmitBase(region, std::move(data), std::move(page_hashes),
                          ChunkCodec::kDefaultZstdLevel);
      };
    } else {
      summary().compared_with = old->source;
    }
    CV_ASSIGN_OR_RETURN(ScanResult scanned, ScanDatabase(snapshot_path_, shape_, o_.hasher_,
                                                         old ? &old->file : nullptr, hashes, scan));
    entry_.pages->digest = scanned.digest;
    summary().pages_changed = scanned.changed.size();
    if (old) {
      CV_RETURN_IF_ERROR(Increment(*current, old->damaged, scanned.changed, hashes, media_bytes));
    }
    return uploader_.Finish();
  }

 private:
  DatabaseBackupSummary& summary() { return o_.summary_; }

  // The page hashes of what the current backup holds, or why there are none to compare with.
  Result<std::optional<OldPageHashes>> Comparison(const FileEntry* current,
                                                  std::string& why_fresh) {
    if (!current || !current->pages) {
      why_fresh = "there is no earlier page-by-page backup";
      return std::optional<OldPageHashes>();
    }
    if (current->pages->page_size != shape_.page_size) {
      why_fresh = "the page size changed from " + std::to_string(current->pages->page_size) +
                  " to " + std::to_string(shape_.page_size);
      return std::optional<OldPageHashes>();
    }
    auto loaded = LoadOld(*current);
    if (loaded.ok()) return std::optional<OldPageHashes>(std::move(loaded).value());
    if (loaded.status().code() != Code::kCorrupted) return loaded.status();
    why_fresh = loaded.status().message();
    return std::optional<OldPageHashes>();
  }

  Result<OldPageHashes> LoadOld(const FileEntry& current) {
    o_.old_hashes_path_ = o_.ScratchPath("old");
    PageStateSource source{o_.provider_, o_.chunks_, o_.objects_,
                           o_.hasher_,   o_.stored_, o_.options_.threads};
    const std::string cache =
        o_.options_.cache_dir.empty() ? "" : PageCachePath(o_.options_.cache_dir);
    return LoadOldPageHashes(source, current, cache, o_.old_hashes_path_);
  }

  // Plans and writes an incremental backup: new packs for what changed, new base chunks where
  // the plan folds.
  Status Increment(const FileEntry& current, const std::unordered_set<std::string>& damaged,
                   const std::vector<uint32_t>& changed, const PageHashFile& hashes,
                   uint64_t media_bytes) {
    const PageMap& old = *current.pages;
    // What each old pack still gives: not the pages that changed, not pages past the new end.
    std::vector<PackRef> packs = old.packs;
    for (PackRef& pack : packs) {
      pack.live = Without(pack.live, changed);
      auto end = std::lower_bound(pack.live.begin(), pack.live.end(), shape_.page_count);
      pack.live.erase(end, pack.live.end());
    }
    std::vector<RegionCounts> regions(regions_);
    for (uint64_t r = 0; r < regions_; ++r) {
      regions[r].pages = PagesInRegion(r, shape_.page_count, shape_.page_size);
      if (r < current.chunks.size() && !current.chunks[r].id.empty()) {
        const ChunkRef& base = current.chunks[r];
        regions[r].base_pages = BasePages(base.size, shape_.page_size);
        regions[r].base_missing =
            damaged.contains(base.id) || !o_.stored_.Contains(ChunkName(base.id));
      }
    }
    auto in_base = [&](uint32_t page) {
      return page % per_region_ < regions[page / per_region_].base_pages;
    };
    for (uint32_t page : changed) {
      ++regions[page / per_region_].changed;
      regions[page / per_region_].changed_in_base += in_base(page);
    }
    std::vector<PackCounts> pack_counts(packs.size());
    for (size_t q = 0; q < packs.size(); ++q) {
      pack_counts[q].stored = packs[q].stored;
      pack_counts[q].missing =
          damaged.contains(packs[q].id) || !o_.stored_.Contains(PackName(packs[q].id));
      auto& by_region = pack_counts[q].live_by_region;
      for (uint32_t page : packs[q].live) {
        const uint64_t r = page / per_region_;
        if (by_region.empty() || by_region.back().first != r) by_region.push_back({r, 0});
        ++by_region.back().second;
        regions[r].packed_in_base += in_base(page);
      }
    }
    PlanLimits limits;
    const double database_bytes = static_cast<double>(entry_.size);
    const double bound =
        std::min(kRestoreOverhead * (database_bytes + media_bytes), database_bytes);
    limits.waste_limit = static_cast<uint64_t>(bound / shape_.page_size);
    limits.pack_capacity = PackCapacity(shape_.page_size);
    const RebasePlan plan = PlanRebase(regions, pack_counts, limits);
    summary().forced = plan.forced;
    summary().unused_pages = plan.waste;
    return CarryOut(current, plan, packs, changed, hashes);
  }

  // Writes what the plan says and fills in the new entry.
  Status CarryOut(const FileEntry& current, const RebasePlan& plan, std::vector<PackRef>& packs,
                  const std::vector<uint32_t>& changed, const PageHashFile& hashes) {
    std::vector<uint32_t> rebased_pages;  // every page of a re-based region, ascending
    uint64_t rebased = 0;
    for (uint64_t r = 0; r < regions_; ++r) {
      if (!plan.rebase[r]) {
        if (r < current.chunks.size()) entry_.chunks[r] = current.chunks[r];
        continue;
      }
      ++rebased;
      const uint32_t pages = PagesInRegion(r, shape_.page_count, shape_.page_size);
      for (uint32_t i = 0; i < pages; ++i) rebased_pages.push_back(r * per_region_ + i);
    }
    const int level =
        rebased <= kFewChunks ? PageObjectCodec::kPackZstdLevel : ChunkCodec::kDefaultZstdLevel;
    for (uint64_t r = 0; r < regions_; ++r) {
      if (plan.rebase[r]) CV_RETURN_IF_ERROR(SubmitRegion(r, hashes, level));
    }
    std::vector<uint32_t> to_pack = Without(changed, rebased_pages);
    for (size_t q = 0; q < packs.size(); ++q) {
      std::vector<uint32_t> live = Without(packs[q].live, rebased_pages);
      if (plan.drop[q]) {
        std::vector<uint32_t> merged;
        std::merge(to_pack.begin(), to_pack.end(), live.begin(), live.end(),
                   std::back_inserter(merged));
        to_pack = std::move(merged);
      } else if (!live.empty()) {
        packs[q].live = std::move(live);
        entry_.pages->packs.push_back(std::move(packs[q]));
      }
    }
    const uint32_t capacity = PackCapacity(shape_.page_size);
    for (size_t i = 0; i < to_pack.size(); i += capacity) {
      const auto first = to_pack.begin() + static_cast<ptrdiff_t>(i);
      const auto last =
          to_pack.begin() + static_cast<ptrdiff_t>(std::min<size_t>(to_pack.size(), i + capacity));
      CV_RETURN_IF_ERROR(SubmitPack(std::vector<uint32_t>(first, last), hashes));
    }
    summary().pages_packed = to_pack.size();
    return OkStatus();
  }

  Status SubmitRegion(uint64_t r, const PageHashFile& hashes, int level) {
    const uint32_t pages = PagesInRegion(r, shape_.page_count, shape_.page_size);
    Bytes data = uploader_.TakeBuffer();
    data.clear();
    CV_RETURN_IF_ERROR(
        snapshot_.ReadAppend(r * kDatabaseChunkSize, size_t{pages} * shape_.page_size, data));
    Bytes page_hashes(size_t{pages} * kPageHashSize);
    CV_RETURN_IF_ERROR(hashes.ReadAt(r * per_region_, pages, page_hashes.data()));
    return SubmitBase(r, std::move(data), std::move(page_hashes), level);
  }

  // A base chunk for region `r`, and its page hash list, unless the location has them already.
  Status SubmitBase(uint64_t r, Bytes data, Bytes page_hashes, int level) {
    const uint64_t size = data.size();
    auto shared = std::make_shared<Bytes>(std::move(data));
    auto list = std::make_shared<Bytes>(EncodePageHashList({{}, std::move(page_hashes)}));
    return uploader_.Enqueue(
        size, [this, r, shared, list, level]() -> Result<ChunkUploader::Stored> {
          ChunkUploader::Stored out;
          out.file = r;
          out.ref = {o_.chunks_.IdOf(*shared), shared->size()};
          out.is_new = o_.stored_.Insert(ChunkName(out.ref.id));
          if (out.is_new) {
            CV_ASSIGN_OR_RETURN(out.uploaded,
                                o_.chunks_.Store(o_.provider_, out.ref.id, *shared, level));
            if (out.uploaded > 0) CrashPoint("rebase");
          }
          CV_RETURN_IF_ERROR(StoreHashes(out.ref.id, *list, out.uploaded));
          uploader_.GiveBuffer(std::move(*shared));
          return out;
        });
  }

  Status SubmitPack(std::vector<uint32_t> pages, const PageHashFile& hashes) {
    auto plain = std::make_shared<Bytes>();
    BeginPack(pages, shape_.page_size, *plain);
    PageHashList list;
    list.hashes.resize(pages.size() * kPageHashSize);
    size_t done = 0;
    CV_RETURN_IF_ERROR(ForEachRun(pages, [&](uint32_t first, size_t count) -> Status {
      CV_RETURN_IF_ERROR(snapshot_.ReadAppend(uint64_t{first} * shape_.page_size,
                                              count * shape_.page_size, *plain));
      CV_RETURN_IF_ERROR(hashes.ReadAt(first, count, list.hashes.data() + done * kPageHashSize));
      done += count;
      return OkStatus();
    }));
    PackRef ref;
    ref.size = plain->size();
    ref.stored = static_cast<uint32_t>(pages.size());
    ref.live = pages;
    list.pages = std::move(pages);
    const size_t index = new_packs_.size();
    new_packs_.push_back(std::move(ref));
    auto encoded = std::make_shared<Bytes>(EncodePageHashList(list));
    return uploader_.Enqueue(
        plain->size(), [this, index, plain, encoded]() -> Result<ChunkUploader::Stored> {
          ChunkUploader::Stored out;
          out.file = kPackTag + index;
          out.ref = {o_.objects_.PackIdOf(*plain), plain->size()};
          out.is_new = o_.stored_.Insert(PackName(out.ref.id));
          if (out.is_new) {
            CV_ASSIGN_OR_RETURN(out.uploaded,
                                o_.objects_.StorePack(o_.provider_, out.ref.id, *plain));
            if (out.uploaded > 0) CrashPoint("pack");
          }
          CV_RETURN_IF_ERROR(StoreHashes(out.ref.id, *encoded, out.uploaded));
          return out;
        });
  }

  Status StoreHashes(const std::string& id, const Bytes& list, uint64_t& uploaded) {
    if (!o_.stored_.Insert(PageHashesName(id))) return OkStatus();
    CV_ASSIGN_OR_RETURN(uint64_t bytes, o_.objects_.StorePageHashes(o_.provider_, id, list));
    if (bytes > 0) CrashPoint("pagehashes");
    uploaded += bytes;
    return OkStatus();
  }

  // An upload came back (in submission order, on this thread).
  void Record(const ChunkUploader::Stored& s) {
    summary().bytes_uploaded += s.uploaded;
    if (s.file >= kPackTag) {
      PackRef& pack = new_packs_[s.file - kPackTag];
      pack.id = s.ref.id;
      entry_.pages->packs.push_back(pack);
      summary().packs_written += s.is_new;
    } else {
      entry_.chunks[s.file] = s.ref;
      summary().chunks_written += s.is_new;
    }
  }

  DatabaseBackup& o_;
  const std::string snapshot_path_;
  const SnapshotFile snapshot_;
  const DatabaseShape shape_;
  FileEntry& entry_;
  const uint32_t per_region_;
  const uint64_t regions_;
  std::vector<PackRef> new_packs_;
  // Last: destroyed first, so its jobs finish while everything they use still exists.
  ChunkUploader uploader_;
};

DatabaseBackup::DatabaseBackup(storage::Provider& provider, const key::BackupKey& key,
                               const ChunkCodec& chunks, StoredChunks& stored,
                               const BackupOptions& options, std::string work_dir)
    : provider_(provider),
      key_(key),
      chunks_(chunks),
      stored_(stored),
      options_(options),
      work_dir_(std::move(work_dir)),
      hasher_(key),
      objects_(key) {}

DatabaseBackup::~DatabaseBackup() {
  if (!new_hashes_path_.empty()) ::unlink(new_hashes_path_.c_str());
  if (!old_hashes_path_.empty()) ::unlink(old_hashes_path_.c_str());
}

Result<bool> DatabaseBackup::Run(const std::string& snapshot, const FileEntry* current,
                                 uint64_t media_bytes, FileEntry& entry,
                                 const std::function<void(uint64_t)>& progress) {
  CV_ASSIGN_OR_RETURN(std::optional<DatabaseShape> shape, ReadDatabaseShape(snapshot));
  if (!shape) return false;
  if (!options_.cache_dir.empty()) RemoveStaleScratch(options_.cache_dir);
  summary_.paged = true;
  summary_.page_size = shape->page_size;
  summary_.pages = shape->page_count;
  {
    OneRun run(*this, snapshot, *shape, entry);
    CV_RETURN_IF_ERROR(run.Go(current, media_bytes, progress));
  }
  summary_.packs = entry.pages->packs.size();
  return true;
}

void DatabaseBackup::Committed() {
  if (options_.cache_dir.empty() || new_hashes_path_.empty()) return;
  // The cache is only ever trusted after its digest matched a committed manifest, so a crash
  // before or during this rename loses nothing but the cache.
  if (::rename(new_hashes_path_.c_str(), PageCachePath(options_.cache_dir).c_str()) == 0) {
    new_hashes_path_.clear();
    CrashPoint("cache");
  }
}

}  // namespace chatvault::backup
