#include "chatvault/vaultstore/store_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

namespace chatvault::vaultstore {
namespace {

// What the holder wrote: "<pid> <what it is>", or a plain description when the file is empty
// (the holder crashed between locking and writing, or an older keyvaultd).
std::string DescribeHolder(const std::string& lock_path) {
  std::ifstream in(lock_path);
  std::string pid, holder;
  in >> pid;
  std::getline(in, holder);
  while (!holder.empty() && holder.front() == ' ') holder.erase(holder.begin());
  if (pid.empty()) return "another process";
  if (holder.empty()) holder = "another process";
  return holder + " (pid " + pid + ")";
}

}  // namespace

std::string SqlitePath(std::string_view store_spec) {
  constexpr std::string_view kScheme = "sqlite:";
  if (!store_spec.starts_with(kScheme)) return {};
  return std::string(store_spec.substr(kScheme.size()));
}

Result<StoreLock> StoreLock::Acquire(std::string_view store_spec, std::string_view holder) {
  StoreLock lock;
  const std::string db = SqlitePath(store_spec);
  if (db.empty()) return lock;
  lock.path_ = db + ".lock";
  CV_ASSIGN_OR_RETURN(lock.fd_, OpenFile(lock.path_, O_RDWR | O_CREAT, 0600));
  if (::flock(lock.fd_.get(), LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK) return ErrnoStatus(errno, "cannot lock " + lock.path_);
    return Unavailable("the record store " + db + " is in use by " + DescribeHolder(lock.path_) +
                       "; one store serves one keyvaultd (run several instances on etcd)");
  }
  const std::string text = std::to_string(::getpid()) + " " + std::string(holder) + "\n";
  if (::ftruncate(lock.fd_.get(), 0) != 0) return ErrnoStatus(errno, "cannot write " + lock.path_);
  CV_RETURN_IF_ERROR(WriteAll(lock.fd_.get(), AsBytes(text), lock.path_));
  return lock;
}

}  // namespace chatvault::vaultstore
