// What a backup reads from a chat data directory: msgstore.db (through its snapshot) and every
// other regular file as media.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include "chatvault/backup/engine.h"
#include "chatvault/common/status.h"

namespace chatvault::backup {

struct SourceFile {
  std::string rel;        // path in the manifest
  std::string read_from;  // where the bytes come from (the snapshot for the database)
  struct stat st {};
};

struct MediaListing {
  std::vector<SourceFile> files;     // sorted by path
  std::vector<SkippedFile> skipped;  // directories that could not be listed
};

// Every media file under `data_dir`: regular files other than the database, its SQLite side
// files and the temp files of a restore that was killed; symlinks are skipped. A subdirectory
// that cannot be read is skipped and reported; only `data_dir` itself must be readable.
Result<MediaListing> ListMedia(const std::string& data_dir);

// Every regular file under `dir` as a media file at `prefix/<path under dir>` (symlinks skipped,
// unreadable subdirectories reported); `dir` itself must be readable.
Result<MediaListing> ListMediaUnder(const std::string& dir, const std::string& prefix);

int64_t MtimeNs(const struct stat& st);

}  // namespace chatvault::backup
