#include "whatsapp/input_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

namespace chatvault::whatsapp {

Result<InputFile> InputFile::Open(const std::string& path) {
  InputFile f;
  f.path_ = path;
  auto fd = OpenFile(path, O_RDONLY);
  if (!fd.ok()) {
    if (fd.status().code() == Code::kNotFound) return NotFound("there is no file " + path);
    return fd.status();
  }
  f.fd_ = std::move(fd).value();
  struct stat st {};
  if (::fstat(f.fd_.get(), &st) != 0) return ErrnoStatus(errno, "cannot stat " + path);
  if (!S_ISREG(st.st_mode)) return InvalidArgument(path + " is not a regular file");
  f.size_ = static_cast<uint64_t>(st.st_size);
  return f;
}

Status InputFile::ReadAt(uint64_t offset, uint8_t* out, size_t n) const {
  while (n > 0) {
    const ssize_t got = ::pread(fd_.get(), out, n, static_cast<off_t>(offset));
    if (got < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "cannot read " + path_);
    }
    if (got == 0) return Truncated(path_ + " became shorter while it was being read");
    out += got;
    offset += static_cast<uint64_t>(got);
    n -= static_cast<size_t>(got);
  }
  return OkStatus();
}

}  // namespace chatvault::whatsapp
