#include "backup/source_files.h"

#include <dirent.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "backup/restore_target.h"

namespace chatvault::backup {
namespace {

// SQLite's side files belong to the live database, not to the backup: the snapshot already
// holds their committed content.
bool IsDatabaseSideFile(const std::string& rel) {
  const std::string db = kDatabaseName;
  return rel == db + "-wal" || rel == db + "-shm" || rel == db + "-journal";
}

class Walker {
 public:
  // Files under `root` are listed as `prefix/...`, or as they are with no prefix (the data
  // directory itself, whose database and its side files are not media).
  Walker(const std::string& root, const std::string& prefix) : root_(root), prefix_(prefix) {}

  // Lists `rel` (a directory below the root, "" for the root itself).
  Status Walk(const std::string& rel) {
    const std::string dir = rel.empty() ? root_ : root_ + "/" + rel;
    DIR* d = ::opendir(dir.c_str());
    if (!d) {
      const std::string reason = "cannot read the directory: " + std::string(std::strerror(errno));
      if (rel.empty()) {
        return IoError("cannot read the chat data directory " + root_ + ": " + reason);
      }
      out_.skipped.push_back({Named(rel) + "/", reason});
      return OkStatus();
    }
    std::vector<std::string> subdirs;
    while (const dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      const std::string child = rel.empty() ? name : rel + "/" + name;
      SourceFile f;
      f.rel = Named(child);
      f.read_from = root_ + "/" + child;
      if (::lstat(f.read_from.c_str(), &f.st) != 0) continue;  // vanished while we listed
      if (S_ISDIR(f.st.st_mode)) {
        subdirs.push_back(child);
      } else if (S_ISREG(f.st.st_mode) && !(prefix_.empty() && Excluded(child, name))) {
        out_.files.push_back(std::move(f));
      }
    }
    ::closedir(d);
    for (const auto& sub : subdirs) CV_RETURN_IF_ERROR(Walk(sub));
    return OkStatus();
  }

  MediaListing Take() {
    std::sort(out_.files.begin(), out_.files.end(),
              [](const SourceFile& a, const SourceFile& b) { return a.rel < b.rel; });
    return std::move(out_);
  }

 private:
  static bool Excluded(const std::string& rel, const std::string& name) {
    return rel == kDatabaseName || IsDatabaseSideFile(rel) || IsRestoreTempFileName(name);
  }
  std::string Named(const std::string& rel) const {
    return prefix_.empty() ? rel : prefix_ + "/" + rel;
  }

  std::string root_;
  std::string prefix_;
  MediaListing out_;
};

}  // namespace

Result<MediaListing> ListMedia(const std::string& data_dir) {
  Walker walker(data_dir, "");
  CV_RETURN_IF_ERROR(walker.Walk(""));
  return walker.Take();
}

Result<MediaListing> ListMediaUnder(const std::string& dir, const std::string& prefix) {
  Walker walker(dir, prefix);
  CV_RETURN_IF_ERROR(walker.Walk(""));
  return walker.Take();
}

int64_t MtimeNs(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

}  // namespace chatvault::backup
