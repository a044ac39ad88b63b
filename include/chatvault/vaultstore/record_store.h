// Storage for the Backup Key Vault's records. Every write is conditional (compare-and-set on a
// version), so that two vault instances can never both spend the same guess.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"

namespace chatvault::vaultstore {

// A stored value and its version. Versions are opaque, strictly increasing per key across
// rewrites (etcd: mod_revision; SQLite: a counter). 0 means "absent".
struct Versioned {
  Bytes value;
  uint64_t version = 0;
};

class RecordStore {
 public:
  virtual ~RecordStore() = default;

  // nullopt if absent. kUnavailable if the store cannot answer with certainty (no quorum).
  virtual Result<std::optional<Versioned>> Get(std::string_view key) = 0;

  // Writes `value` iff the key's current version is `expected_version` (0: the key must be
  // absent). Returns the new version once the write is durable; kConflict if another writer got
  // there first; kUnavailable if durability cannot be confirmed.
  virtual Result<uint64_t> CompareAndSet(std::string_view key, uint64_t expected_version,
                                         ByteView value) = 0;

  // Deletes iff the current version is `expected_version`; kConflict otherwise.
  virtual Status CompareAndDelete(std::string_view key, uint64_t expected_version) = 0;

  // OK when reads and writes can be served now.
  virtual Status Health() = 0;

  // Every key that starts with `prefix`, in byte order. For operators' tools (replaying the
  // audit log after a restore), never on a request's path. kUnsupported where a store cannot.
  virtual Result<std::vector<std::string>> ListKeys(std::string_view prefix) {
    return Unsupported("this record store cannot list its keys");
  }
};

}  // namespace chatvault::vaultstore
