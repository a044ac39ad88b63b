#include "backup/source_files.h"

#include <algorithm>
#include <filesystem>

#include "chatvault/backup/engine.h"

namespace chatvault::backup {
namespace fs = std::filesystem;
namespace {

// SQLite's side files belong to the live database, not to the backup: the snapshot already
// holds their committed content.
bool IsDatabaseSideFile(const std::string& rel) {
  const std::string db = kDatabaseName;
  return rel == db + "-wal" || rel == db + "-shm" || rel == db + "-journal";
}

}  // namespace

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

int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

}  // namespace chatvault::backup
