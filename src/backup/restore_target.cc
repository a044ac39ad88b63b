#include "backup/restore_target.h"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "chatvault/crypto/random.h"

namespace chatvault::backup {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kTempPrefix = ".chatvault-restore-";
constexpr size_t kTempRandomDigits = 12;

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

// The directory whose file system the target lives on: the target, or its nearest existing
// ancestor while it does not exist yet.
std::string ExistingAncestor(const std::string& dir) {
  fs::path p = fs::absolute(dir);
  std::error_code ec;
  while (!fs::exists(p, ec) && p.has_parent_path() && p != p.parent_path()) p = p.parent_path();
  return p.string();
}

uint64_t RoundUp(uint64_t n, uint64_t block) { return block ? (n + block - 1) / block * block : n; }

}  // namespace

std::string RestoreTempFileName(std::string_view final_name) {
  return std::string(kTempPrefix) + HexEncode(crypto::RandomBytes(kTempRandomDigits / 2)) + "-" +
         std::string(final_name);
}

bool IsRestoreTempFileName(std::string_view name) {
  if (!name.starts_with(kTempPrefix)) return false;
  const std::string_view rest = name.substr(kTempPrefix.size());
  if (rest.size() <= kTempRandomDigits || rest[kTempRandomDigits] != '-') return false;
  for (size_t i = 0; i < kTempRandomDigits; ++i) {
    if (!IsLowerHex(rest[i])) return false;
  }
  return true;
}

std::string ByteCount(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  double v = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[unit]);
  return buf;
}

RestoreTarget::~RestoreTarget() {
  if (keep_) return;
  for (const auto& f : new_files_) ::unlink(f.c_str());
  for (auto it = created_dirs_.rbegin(); it != created_dirs_.rend(); ++it) ::rmdir(it->c_str());
}

Status RestoreTarget::Inspect(bool allow_nonempty) {
  std::error_code ec;
  const auto status = fs::symlink_status(dir_, ec);
  // A missing target is made later, once there is something to restore.
  if (ec || !fs::exists(status)) return OkStatus();
  if (!fs::is_directory(fs::status(dir_, ec))) {
    return InvalidArgument(dir_ + " exists and is not a directory");
  }
  bool holds_files = false;
  std::vector<fs::path> leftovers;
  for (fs::recursive_directory_iterator it(dir_, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->is_directory(ec)) continue;
    if (IsRestoreTempFileName(it->path().filename().string()) && it->is_regular_file(ec)) {
      leftovers.push_back(it->path());
    } else {
      holds_files = true;
    }
  }
  if (ec) return IoError("cannot read " + dir_ + ": " + ec.message());
  // Partial files of a restore that was killed: nothing else ever has these names.
  for (const auto& p : leftovers) {
    if (!fs::remove(p, ec) && ec) {
      return IoError("cannot remove " + p.string() + ": " + ec.message());
    }
  }
  if (holds_files && !allow_nonempty) {
    return InvalidArgument(dir_ + " is not empty; restore into an empty directory");
  }
  return OkStatus();
}

Status RestoreTarget::CheckSpace(const Manifest& manifest) {
  const std::string where = ExistingAncestor(dir_);
  struct statvfs vfs;
  if (::statvfs(where.c_str(), &vfs) != 0) return OkStatus();  // no answer: the writes will tell
  const uint64_t block = vfs.f_frsize ? vfs.f_frsize : vfs.f_bsize;
  uint64_t need = 0;
  uint64_t freed = 0;
  for (const auto& f : manifest.files) {
    need += RoundUp(f.size, block);
    struct stat existing;
    if (::lstat(PathOf(f.path).c_str(), &existing) == 0 && S_ISREG(existing.st_mode)) {
      freed += static_cast<uint64_t>(existing.st_blocks) * 512;
    }
  }
  need_ = need > freed ? need - freed : 0;
  have_ = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
  if (need_ > have_) {
    return NoSpace("not enough space in " + where + ": need " + ByteCount(need_) + ", have " +
                   ByteCount(have_));
  }
  return OkStatus();
}

Status RestoreTarget::ExplainNoSpace(const Status& s) const {
  if (s.code() != Code::kNoSpace) return s;
  return NoSpace("not enough space in " + dir_ + ": need " + ByteCount(need_) + ", have " +
                 ByteCount(have_) + " when the restore started, and the disk filled up (" +
                 s.message() + ")");
}

Status RestoreTarget::MakeDir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) == 0) {
    created_dirs_.push_back(path);
    return OkStatus();
  }
  const int e = errno;
  struct stat st;
  if (e == EEXIST && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return OkStatus();
  const std::string text = "cannot create " + path + ": " + std::strerror(e);
  return e == ENOSPC || e == EDQUOT ? NoSpace(text) : IoError(text);
}

Status RestoreTarget::MakeParentsOf(const std::string& relative_path) {
  // The target's own missing ancestors first, then the target, then the path's directories.
  std::vector<std::string> missing;
  for (fs::path p = fs::absolute(dir_).lexically_normal(); !p.empty() && p != p.parent_path();
       p = p.parent_path()) {
    std::error_code ec;
    if (fs::exists(p, ec)) break;
    missing.push_back(p.string());
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) CV_RETURN_IF_ERROR(MakeDir(*it));
  const fs::path rel = fs::path(relative_path).parent_path();
  std::string path = dir_;
  for (const auto& part : rel) {
    path += "/" + part.string();
    CV_RETURN_IF_ERROR(MakeDir(path));
  }
  return OkStatus();
}

void RestoreTarget::Published(const std::string& path, bool replaced) {
  if (!replaced) new_files_.push_back(path);
}

}  // namespace chatvault::backup
