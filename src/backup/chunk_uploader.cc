#include "backup/chunk_uploader.h"

#include <algorithm>

#include "backup/layout.h"

namespace chatvault::backup {
namespace {

// Enough to keep eight workers busy with 4 MiB media chunks (docs/BACKUP.md).
constexpr uint64_t kMaxBytesInFlight = 32 << 20;

}  // namespace

StoredChunks::StoredChunks(const std::vector<storage::ObjectInfo>& listed) {
  for (const auto& o : listed) names_.insert(o.name);
}

bool StoredChunks::Insert(const std::string& name) {
  MutexLock lock(mu_);
  return names_.insert(name).second;
}

bool StoredChunks::Contains(const std::string& name) const {
  MutexLock lock(mu_);
  return names_.contains(name);
}

bool StoredChunks::ContainsAll(const std::vector<ChunkRef>& chunks) const {
  MutexLock lock(mu_);
  for (const ChunkRef& c : chunks) {
    if (!names_.contains(ChunkName(c.id))) return false;
  }
  return true;
}

ChunkUploader::ChunkUploader(storage::Provider& provider, const ChunkCodec& codec,
                             StoredChunks& stored, int threads, OnStored on_stored)
    : provider_(provider),
      codec_(codec),
      stored_(stored),
      on_stored_(std::move(on_stored)),
      window_(threads,
              {OrderedWindow<Result<Stored>>::TwoPerWorker(threads).max_jobs, kMaxBytesInFlight},
              [this](std::monostate&, Result<Stored> stored) -> Status {
                if (!stored.ok()) return stored.status();
                on_stored_(*stored);
                return OkStatus();
              }) {}

Status ChunkUploader::Submit(size_t file, Bytes data) {
  const uint64_t size = data.size();
  auto shared = std::make_shared<Bytes>(std::move(data));
  return Enqueue(size, [this, file, shared] { return Store(file, *shared); });
}

Status ChunkUploader::Enqueue(uint64_t bytes, Job job) {
  return window_.Submit({}, bytes, std::move(job));
}

Status ChunkUploader::Finish() { return window_.Drain(); }

Result<ChunkUploader::Stored> ChunkUploader::Store(size_t file, Bytes& data) {
  Stored out;
  out.file = file;
  out.ref = {codec_.IdOf(data), data.size()};
  out.is_new = stored_.Insert(ChunkName(out.ref.id));
  if (out.is_new) {
    auto uploaded = codec_.Store(provider_, out.ref.id, data);
    if (!uploaded.ok()) return uploaded.status();
    out.uploaded = *uploaded;
  }
  buffers_.Give(std::move(data));
  return out;
}

}  // namespace chatvault::backup
