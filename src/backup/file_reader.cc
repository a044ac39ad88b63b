#include "backup/file_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace chatvault::backup {

Result<FileReader> FileReader::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open " + path + ": " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    const int e = errno;
    ::close(fd);
    return IoError("cannot stat " + path + ": " + std::strerror(e));
  }
  return FileReader(fd, static_cast<uint64_t>(st.st_size), path);
}

FileReader::~FileReader() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileReader::Read(size_t max, Bytes& out) {
  const size_t want = static_cast<size_t>(std::min<uint64_t>(max, remaining_));
  out.resize(want);
  size_t got = 0;
  while (got < want) {
    const ssize_t n = ::read(fd_, out.data() + got, want - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot read " + path_ + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  remaining_ -= got;
  if (got < want) remaining_ = 0;  // shrank since it was opened: this is its end
  return OkStatus();
}

}  // namespace chatvault::backup
