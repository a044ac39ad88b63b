// A read-only input file with positioned reads and its size, closed on destruction.
#pragma once

#include <cstdint>
#include <string>

#include "chatvault/common/file.h"
#include "chatvault/common/status.h"

namespace chatvault::whatsapp {

class InputFile {
 public:
  static Result<InputFile> Open(const std::string& path);

  uint64_t size() const { return size_; }
  // Reads exactly `n` bytes at `offset` (kIo on failure, kTruncated if the file shrank).
  Status ReadAt(uint64_t offset, uint8_t* out, size_t n) const;

 private:
  InputFile() = default;
  std::string path_;
  Fd fd_;
  uint64_t size_ = 0;
};

}  // namespace chatvault::whatsapp
