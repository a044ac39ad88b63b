// Reads a file in chunk-sized pieces, up to the size it had when it was opened: a file that grows
// meanwhile is backed up as it was (its manifest entry records the bytes actually read).
#pragma once

#include <string>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"

namespace chatvault::backup {

class FileReader {
 public:
  static Result<FileReader> Open(const std::string& path);
  ~FileReader();
  FileReader(FileReader&& other) noexcept
      : fd_(other.fd_), remaining_(other.remaining_), path_(std::move(other.path_)) {
    other.fd_ = -1;
  }
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;
  FileReader& operator=(FileReader&&) = delete;

  // Fills `out` with up to `max` bytes; an empty `out` means end of file. `out` is only grown as
  // far as needed, so a reused buffer is not cleared again.
  Status Read(size_t max, Bytes& out);

 private:
  FileReader(int fd, uint64_t size, std::string path)
      : fd_(fd), remaining_(size), path_(std::move(path)) {}
  int fd_;
  uint64_t remaining_;
  std::string path_;
};

}  // namespace chatvault::backup
