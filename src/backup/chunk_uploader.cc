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
  std::lock_guard<std::mutex> lock(mu_);
  return names_.insert(name).second;
}

bool StoredChunks::Contains(const std::string& name) const {
  std::lock_guard<std::mutex> lock(mu_);
  return names_.contains(name);
}

bool StoredChunks::ContainsAll(const std::vector<ChunkRef>& chunks) const {
  std::lock_guard<std::mutex> lock(mu_);
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
      window_(static_cast<size_t>(std::max(1, threads)) * 2),
      pool_(std::max(1, threads)) {}

Status ChunkUploader::Submit(size_t file, Bytes data) {
  const uint64_t size = data.size();
  auto shared = std::make_shared<Bytes>(std::move(data));
  return Enqueue(size, [this, file, shared] { return Store(file, *shared); });
}

Status ChunkUploader::Enqueue(uint64_t bytes, Job job) {
  while (!in_flight_.empty() &&
         (in_flight_.size() >= window_ || bytes_in_flight_ + bytes > kMaxBytesInFlight)) {
    TakeOldest();
  }
  bytes_in_flight_ += bytes;
  in_flight_.push_back({bytes, pool_.Submit(std::move(job))});
  return failure_;
}

Status ChunkUploader::Finish() {
  while (!in_flight_.empty()) TakeOldest();
  return failure_;
}

void ChunkUploader::TakeOldest() {
  InFlight job = std::move(in_flight_.front());
  in_flight_.pop_front();
  bytes_in_flight_ -= job.bytes;
  auto r = job.done.get();
  if (!r.ok()) {
    if (failure_.ok()) failure_ = r.status();
    return;
  }
  if (failure_.ok()) on_stored_(*r);
}

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
