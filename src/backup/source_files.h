// What a backup reads from a chat data directory: msgstore.db (through its snapshot) and every
// other regular file as media.
#pragma once

#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <vector>

#include "chatvault/common/status.h"

namespace chatvault::backup {

struct SourceFile {
  std::string rel;        // path in the manifest
  std::string read_from;  // where the bytes come from (the snapshot for the database)
  struct stat st {};
};

// Every media file under `data_dir`, sorted by path: regular files other than the database and
// its SQLite side files; symlinks are skipped.
Result<std::vector<SourceFile>> ListMedia(const std::string& data_dir);

int64_t MtimeNs(const struct stat& st);

}  // namespace chatvault::backup
