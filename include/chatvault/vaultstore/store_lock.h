// One keyvaultd per SQLite store. SQLite itself lets several processes share a file safely, but
// two vaults on one store are a mistake an operator does not see: each serves its own clients
// and both count guesses, and the one the operator did not mean to start keeps running after
// the other is stopped for a restore. So a process that serves (or rewrites) a store holds an
// exclusive lock on a file beside it, and a second one refuses to start and names the first.
#pragma once

#include <string>
#include <string_view>

#include "chatvault/common/file.h"
#include "chatvault/common/status.h"

namespace chatvault::vaultstore {

class StoreLock {
 public:
  // For "sqlite:PATH": takes an exclusive flock(2) on PATH.lock (created 0600 when missing),
  // held until the lock is destroyed or the process ends (also by kill -9), and writes
  // "<pid> <holder>" into it. kUnavailable "the record store PATH is in use by <holder> (pid N)"
  // when another process holds it. Other stores (etcd) are shared by design: nothing is locked.
  // `holder` says what this process is doing, e.g. "keyvaultd serve".
  static Result<StoreLock> Acquire(std::string_view store_spec, std::string_view holder);

  StoreLock(StoreLock&&) = default;
  StoreLock& operator=(StoreLock&&) = default;

  // The lock file's path; empty when nothing was locked.
  const std::string& path() const { return path_; }

 private:
  StoreLock() = default;
  std::string path_;
  Fd fd_;
};

// The file path in "sqlite:PATH", or "" for any other store.
std::string SqlitePath(std::string_view store_spec);

}  // namespace chatvault::vaultstore
