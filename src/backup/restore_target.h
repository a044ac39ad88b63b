// The directory a restore writes into: what it held before, what the restore made in it, and
// taking that away again when the restore fails, so that a failed restore leaves no partial files
// and a rerun needs no --force.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "backup/manifest.h"
#include "chatvault/common/status.h"

namespace chatvault::backup {

// Each file being restored is written to a hidden temp file beside its final place:
// ".chatvault-restore-<12 hex digits>-<name>". A killed restore leaves these behind; the next
// restore into the directory removes them, and backups never include them.
std::string RestoreTempFileName(std::string_view final_name);
bool IsRestoreTempFileName(std::string_view name);

// "1.5 GiB", "300 KiB", "12 bytes"
std::string ByteCount(uint64_t bytes);

class RestoreTarget {
 public:
  explicit RestoreTarget(std::string dir) : dir_(std::move(dir)) {}
  // Unless Keep() was called: removes the files the restore put in place where there was none
  // before, then the directories it created (the target itself too, if it made it).
  ~RestoreTarget();
  RestoreTarget(const RestoreTarget&) = delete;
  RestoreTarget& operator=(const RestoreTarget&) = delete;

  // Before anything is fetched. Removes temp files a killed restore left, then refuses a target
  // that is not a directory, or one that holds files unless `allow_nonempty` (directories
  // without files do not count).
  Status Inspect(bool allow_nonempty);
  // kNoSpace "not enough space in DIR: need X, have Y" when the file system lacks room for
  // `manifest` (files it replaces count as freed).
  Status CheckSpace(const Manifest& manifest);
  // Creates the target and the directories above `relative_path`, remembering which it made.
  Status MakeParentsOf(const std::string& relative_path);
  std::string PathOf(const std::string& relative_path) const { return dir_ + "/" + relative_path; }
  // A restored file is in place; `replaced` when it took the place of an existing file.
  void Published(const std::string& path, bool replaced);
  // Says in one sentence what ran out when a write failed with kNoSpace.
  Status ExplainNoSpace(const Status& s) const;
  // The restore succeeded: keep everything.
  void Keep() { keep_ = true; }

 private:
  Status MakeDir(const std::string& path);

  std::string dir_;
  std::vector<std::string> created_dirs_;  // in creation order
  std::vector<std::string> new_files_;
  uint64_t need_ = 0;
  uint64_t have_ = 0;
  bool keep_ = false;
};

}  // namespace chatvault::backup
