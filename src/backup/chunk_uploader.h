// The upload half of a backup: worker threads compute each chunk's keyed id, decide whether the
// provider already has it, and encrypt and upload it if not. The reading thread submits chunks in
// file order and gets the results back in that order, so each file's chunk list comes out right.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_set>

#include "backup/chunk_codec.h"
#include "backup/manifest.h"
#include "backup/ordered_window.h"
#include "backup/work_pool.h"
#include "chatvault/common/mutex.h"
#include "chatvault/storage/provider.h"

namespace chatvault::backup {

// The chunk objects the provider holds (and a database's packs and page hash lists), as listed at
// the start of a backup plus those this backup stored since. Read by the planning thread while
// the workers add to it.
class StoredChunks {
 public:
  explicit StoredChunks(const std::vector<storage::ObjectInfo>& listed);
  // True when `name` was not there yet (and now counts as stored).
  bool Insert(const std::string& name);
  bool ContainsAll(const std::vector<ChunkRef>& chunks) const;
  bool Contains(const std::string& name) const;

 private:
  mutable Mutex mu_;
  std::unordered_set<std::string> names_ CV_GUARDED_BY(mu_);
};

class ChunkUploader {
 public:
  struct Stored {
    size_t file = 0;  // what the caller passed to Submit
    ChunkRef ref;
    uint64_t uploaded = 0;  // encrypted bytes written (0 when the chunk was there)
    bool is_new = false;
  };
  using OnStored = std::function<void(const Stored&)>;

  // At most 2 x `threads` chunks and kMaxBytesInFlight plaintext bytes are in flight, so the peak
  // memory does not depend on how many large media chunks happen to come together.
  ChunkUploader(storage::Provider& provider, const ChunkCodec& codec, StoredChunks& stored,
                int threads, OnStored on_stored);

  // A buffer to read the next chunk into (one the workers handed back, when there is one).
  Bytes TakeBuffer() { return buffers_.Take(); }
  // For jobs that read into TakeBuffer() buffers themselves.
  void GiveBuffer(Bytes buffer) { buffers_.Give(std::move(buffer)); }
  // Queues a chunk of `file`, first waiting for earlier ones while the window is full. Returns
  // the first failure of any chunk so far; stop submitting then.
  Status Submit(size_t file, Bytes data);
  // Queues any job that stores objects (database pages, for instance) in the same window, `bytes`
  // being the plaintext it holds; its result comes back through OnStored in order too.
  using Job = std::function<Result<Stored>()>;
  Status Enqueue(uint64_t bytes, Job job);
  // Waits for every queued chunk; returns the first failure, if any.
  Status Finish();

 private:
  Result<Stored> Store(size_t file, Bytes& data);

  storage::Provider& provider_;
  const ChunkCodec& codec_;
  StoredChunks& stored_;
  OnStored on_stored_;
  BufferRecycler buffers_;
  // Last: destroyed first, so queued jobs finish while everything they use still exists.
  OrderedWindow<Result<Stored>> window_;
};

}  // namespace chatvault::backup
