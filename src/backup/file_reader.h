// Reads a file in chunk-sized pieces.
#pragma once

#include <string>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"

namespace chatvault::backup {

class FileReader {
 public:
  static Result<FileReader> Open(const std::string& path);
  ~FileReader();
  FileReader(FileReader&& other) noexcept : fd_(other.fd_), path_(std::move(other.path_)) {
    other.fd_ = -1;
  }
  FileReader(const FileReader&) = delete;
  FileReader& operator=(const FileReader&) = delete;
  FileReader& operator=(FileReader&&) = delete;

  // Fills `out` with up to `max` bytes; an empty `out` means end of file.
  Status Read(size_t max, Bytes& out);

 private:
  FileReader(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
};

}  // namespace chatvault::backup
