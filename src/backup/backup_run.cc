// RunBackup: snapshot, chunk, upload what is new, commit, then clean up (docs/BACKUP.md).
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <future>
#include <mutex>
#include <unordered_map>
#include <unordered_set>

#include "backup/catalog.h"
#include "backup/chunk_codec.h"
#include "backup/crash_point.h"
#include "backup/file_reader.h"
#include "backup/layout.h"
#include "backup/sqlite_snapshot.h"
#include "backup/work_pool.h"
#include "chatvault/backup/engine.h"
#include "chatvault/crypto/random.h"

namespace chatvault::backup {
namespace fs = std::filesystem;
namespace {

struct SourceFile {
  std::string rel;       // path in the manifest
  std::string read_from; // where the bytes come from (the snapshot for the database)
  struct stat st {};
};

// SQLite's side files belong to the live database, not to the backup: the snapshot already
// holds their committed content.
bool IsDatabaseSideFile(const std::string& rel) {
  const std::string db = kDatabaseName;
  return rel == db + "-wal" || rel == db + "-shm" || rel == db + "-journal";
}

Result<std::vector<SourceFile>> ListMedia(const std::string& data_dir) {
  std::vector<SourceFile> files;
  std::error_code ec;
  fs::recursive_directory_iterator it(data_dir, fs::directory_options::none, ec);
  if (ec) return IoError("cannot read the chat data directory " + data_dir + ": " + ec.message());
  for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) return IoError("cannot list " + data_dir + ": " + ec.message());
    const fs::path& p = it->path();
    if (!it->is_regular_file(ec) || it->is_symlink(ec)) continue;
    std::string rel = fs::relative(p, data_dir).generic_string();
    if (rel == kDatabaseName || IsDatabaseSideFile(rel)) continue;
    SourceFile f;
    f.rel = rel;
    f.read_from = p.string();
    if (::lstat(f.read_from.c_str(), &f.st) != 0) continue;  // vanished while we listed
    files.push_back(std::move(f));
  }
  std::sort(files.begin(), files.end(),
            [](const SourceFile& a, const SourceFile& b) { return a.rel < b.rel; });
  return files;
}

// Deletes the staged snapshot however RunBackup ends.
struct TempFile {
  std::string path;
  ~TempFile() {
    if (!path.empty()) ::unlink(path.c_str());
  }
};

// Enough to keep eight workers busy with 4 MiB media chunks (docs/BACKUP.md).
constexpr uint64_t kMaxBytesInFlight = 32 << 20;

int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

}  // namespace

Result<BackupSummary> RunBackup(const std::string& data_dir, storage::Provider& provider,
                                const key::BackupKey& key, const BackupOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  const auto started_wall = std::chrono::system_clock::now();  // for leftovers of older runs
  Progress progress;
  auto report = [&] {
    if (options.progress) options.progress(progress);
  };

  const std::string db_path = data_dir + "/" + kDatabaseName;
  struct stat db_stat;
  if (::stat(db_path.c_str(), &db_stat) != 0 || !S_ISREG(db_stat.st_mode)) {
    return NotFound(data_dir + " is not a chat data directory: it has no " + kDatabaseName);
  }

  // What the provider already has: those chunks are neither encrypted nor uploaded again.
  CV_ASSIGN_OR_RETURN(auto existing_objects, provider.List(kChunkPrefix));
  std::unordered_set<std::string> stored;
  std::mutex stored_mu;  // the workers add to `stored` while this thread still reads it
  for (const auto& o : existing_objects) stored.insert(o.name);
  existing_objects.clear();
  CV_ASSIGN_OR_RETURN(uint64_t highest, HighestSequence(provider));
  // Media files the current backup already holds unchanged (same path, size, mtime and mode) are
  // not read again: their chunk lists carry over, provided every chunk is still on the provider.
  // Any problem with the previous manifest just means reading everything.
  std::unordered_map<std::string, FileEntry> previous;
  if (!options.reread_all) {
    auto current = LoadCurrentManifest(provider, key);
    if (current.ok()) {
      for (FileEntry& f : current->files) {
        if (f.path != kDatabaseName) previous.emplace(f.path, std::move(f));
      }
    }
  }
  auto carried_over = [&](const FileEntry& entry) -> const FileEntry* {
    auto it = previous.find(entry.path);
    if (it == previous.end()) return nullptr;
    const FileEntry& old = it->second;
    if (old.size != entry.size || old.mtime_ns != entry.mtime_ns || old.mode != entry.mode) {
      return nullptr;
    }
    std::lock_guard<std::mutex> lock(stored_mu);
    for (const ChunkRef& c : old.chunks) {
      if (!stored.contains(ChunkName(c.id))) return nullptr;
    }
    return &old;
  };

  // 1. A consistent copy of the live database.
  TempFile snapshot;
  const std::string temp_dir =
      options.temp_dir.empty() ? fs::temp_directory_path().string() : options.temp_dir;
  snapshot.path = temp_dir + "/chatvault-snapshot-" + HexEncode(crypto::RandomBytes(8)) + ".db";
  progress.phase = "snapshot";
  CV_RETURN_IF_ERROR(SnapshotDatabase(db_path, snapshot.path, [&](uint64_t done, uint64_t total) {
    progress.bytes_done = done;
    progress.bytes_total = total;
    report();
  }));
  CrashPoint("snapshot");

  std::vector<SourceFile> sources;
  {
    SourceFile db;
    db.rel = kDatabaseName;
    db.read_from = snapshot.path;
    if (::stat(snapshot.path.c_str(), &db.st) != 0) return IoError("the snapshot vanished");
    db.st.st_mode = db_stat.st_mode;  // the live file's mode and mtime, the snapshot's size
    db.st.st_mtim = db_stat.st_mtim;
    sources.push_back(std::move(db));
  }
  CV_ASSIGN_OR_RETURN(auto media, ListMedia(data_dir));
  for (auto& m : media) sources.push_back(std::move(m));

  progress = Progress{"upload", 0, 0, 0, sources.size()};
  for (const auto& s : sources) progress.bytes_total += static_cast<uint64_t>(s.st.st_size);
  report();

  // 2. Chunks: this thread reads; the pool ids (keyed hash), encrypts and uploads what is new.
  // At most `window` chunks and kMaxBytesInFlight plaintext bytes are in memory at once (so the
  // peak does not depend on how many large media chunks happen to come together), and results
  // are taken in submission order so each file's chunk list comes out in order.
  ChunkCodec codec(key);
  BackupSummary summary;
  Manifest manifest;
  manifest.sequence = highest + 1;
  manifest.created_unix = std::chrono::duration_cast<std::chrono::seconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
  const int threads = std::max(1, options.threads);
  const size_t window = static_cast<size_t>(threads) * 2;
  BufferRecycler buffers;
  struct Stored {
    ChunkRef ref;
    uint64_t uploaded = 0;
    bool is_new = false;
  };
  struct InFlight {
    size_t file;  // index into manifest.files
    uint64_t bytes;
    std::future<Result<Stored>> done;
  };
  std::deque<InFlight> in_flight;
  uint64_t bytes_in_flight = 0;
  Status failure;
  bool first_chunk_reported = false;
  auto drain_one = [&] {
    InFlight job = std::move(in_flight.front());
    in_flight.pop_front();
    bytes_in_flight -= job.bytes;
    auto r = job.done.get();
    if (!r.ok()) {
      if (failure.ok()) failure = r.status();
      return;
    }
    manifest.files[job.file].chunks.push_back(r->ref);
    summary.bytes_uploaded += r->uploaded;
    if (r->is_new) ++summary.new_chunks;
    if (r->uploaded > 0 && !first_chunk_reported) {
      first_chunk_reported = true;
      CrashPoint("chunk");
    }
  };
  auto store_chunk = [&codec, &provider, &stored, &stored_mu,
                      &buffers](std::shared_ptr<Bytes> data) -> Result<Stored> {
    Stored out;
    out.ref = {codec.IdOf(*data), data->size()};
    {
      std::lock_guard<std::mutex> lock(stored_mu);
      out.is_new = stored.insert(ChunkName(out.ref.id)).second;
    }
    if (out.is_new) {
      auto uploaded = codec.Store(provider, out.ref.id, *data);
      if (!uploaded.ok()) return uploaded.status();
      out.uploaded = *uploaded;
    }
    buffers.Give(std::move(*data));
    return out;
  };
  {
    WorkPool pool(threads);
    for (const SourceFile& src : sources) {
      if (!failure.ok()) break;
      FileEntry entry;
      entry.path = src.rel;
      entry.mode = src.st.st_mode & 07777;
      entry.mtime_ns = MtimeNs(src.st);
      const bool is_db = src.rel == kDatabaseName;
      entry.size = static_cast<uint64_t>(src.st.st_size);
      const FileEntry* old = is_db ? nullptr : carried_over(entry);
      if (old) {
        entry.chunks = old->chunks;
        ++summary.files_unchanged;
      }
      const size_t file_index = manifest.files.size();
      manifest.files.push_back(std::move(entry));
      if (old) {
        progress.bytes_done += manifest.files[file_index].size;
        ++progress.files_done;
        report();
        continue;
      }
      uint64_t read_bytes = 0;
      const size_t chunk_size = is_db ? kDatabaseChunkSize : kMediaChunkSize;
      auto reader = FileReader::Open(src.read_from);
      if (!reader.ok()) {
        failure = reader.status();
        break;
      }
      for (;;) {
        auto data = std::make_shared<Bytes>(buffers.Take());
        Status s = reader->Read(chunk_size, *data);
        if (!s.ok()) {
          failure = s;
          break;
        }
        if (data->empty()) break;
        read_bytes += data->size();
        progress.bytes_done += data->size();
        while (!in_flight.empty() && (in_flight.size() >= window ||
                                      bytes_in_flight + data->size() > kMaxBytesInFlight)) {
          drain_one();
        }
        bytes_in_flight += data->size();
        in_flight.push_back({file_index, data->size(),
                             pool.Submit([&store_chunk, data] { return store_chunk(data); })});
        report();
        if (!failure.ok()) break;
      }
      // The size actually read: a file that grew or shrank since it was listed is backed up as
      // it was read.
      manifest.files[file_index].size = read_bytes;
      ++progress.files_done;
      report();
    }
    while (!in_flight.empty()) drain_one();
  }
  if (!failure.ok()) return failure;
  CrashPoint("chunks");

  // 3. Commit: manifest, then the pointer.
  progress.phase = "commit";
  report();
  CV_RETURN_IF_ERROR(CommitBackup(provider, key, manifest));

  // 4. Only now may older backups' objects go.
  progress.phase = "cleanup";
  report();
  auto deleted = CollectGarbage(provider, manifest, started_wall);
  if (deleted.ok()) {
    summary.objects_deleted = *deleted;
  } else {
    summary.cleanup_warning = "older backups were not fully removed (" +
                              deleted.status().ToString() + "); the next backup retries";
  }

  CopyTotals(manifest, summary);
  summary.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return summary;
}

}  // namespace chatvault::backup
