// Where encrypted backups live: a flat namespace of named, immutable-by-convention objects.
// Every operation is idempotent and safe to retry. Names are relative paths of [a-z0-9._/-]
// ("chunks/ab/abcdef...", "manifests/00000042", "current/00000042").
// Providers see only ciphertext and sizes.
// Implementations must be safe to call from several threads at once: the backup engine stores
// and fetches a few chunks in parallel through one Provider object.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"

namespace chatvault::storage {

struct ObjectInfo {
  std::string name;
  uint64_t size = 0;
};

class Provider {
 public:
  virtual ~Provider() = default;

  // A description for messages, without credentials: "local:/backups/alice", "s3://bucket/prefix".
  virtual std::string Describe() const = 0;

  // Stores `data` under `name` unless the name exists; returns kAlreadyExists then. Readers never
  // see a partial object: it appears whole or not at all.
  virtual Status PutIfAbsent(std::string_view name, ByteView data) = 0;
  // Stores `data` under `name`, replacing any previous object atomically.
  virtual Status Put(std::string_view name, ByteView data) = 0;
  // kNotFound if absent.
  virtual Result<Bytes> Get(std::string_view name) = 0;
  // All objects whose names start with `prefix`, sorted by name.
  virtual Result<std::vector<ObjectInfo>> List(std::string_view prefix) = 0;
  // Succeeds when the object is gone afterwards, including when it never existed.
  virtual Status Delete(std::string_view name) = 0;
  // Removes what writes interrupted by a crash left behind (a local provider's hidden temp files)
  // if they were started before `before`; objects are never touched. Call it only when none of
  // your own writes can still be in flight. Returns how many leftovers went. Providers whose
  // interrupted writes leave nothing the caller could see or pay for keep this default.
  virtual Result<uint64_t> RemoveAbandonedWrites(std::chrono::system_clock::time_point before) {
    (void)before;
    return uint64_t{0};
  }
};

// Opens a provider from a location the user typed:
//   /some/dir, ./dir, file:///some/dir     local directory (built in)
//   s3://bucket/prefix, webdav://host/path, rclone:remote:path   when registered (cloud providers)
Result<std::unique_ptr<Provider>> OpenProvider(std::string_view location);

// Lets further providers plug in by URL scheme ("s3", "webdav", "rclone").
using ProviderFactory = std::function<Result<std::unique_ptr<Provider>>(std::string_view location)>;
void RegisterScheme(std::string scheme, ProviderFactory factory);

}  // namespace chatvault::storage
