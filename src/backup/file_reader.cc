#include "backup/file_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace chatvault::backup {

Result<FileReader> FileReader::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IoError("cannot open " + path + ": " + std::strerror(errno));
  return FileReader(fd, path);
}

FileReader::~FileReader() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileReader::Read(size_t max, Bytes& out) {
  out.resize(max);
  size_t got = 0;
  while (got < max) {
    const ssize_t n = ::read(fd_, out.data() + got, max - got);
    if (n < 0) {
      if (errno == EINTR) continue;
      return IoError("cannot read " + path_ + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return OkStatus();
}

}  // namespace chatvault::backup
