// An output file that appears at its final path whole or not at all: writes go to a temporary file
// in the same directory, Commit() fsyncs it, renames it into place and fsyncs the directory. If the
// object dies uncommitted (error, wrong key), the temporary file is removed.
#pragma once

#include <string>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"

namespace chatvault::whatsapp {

class AtomicOutput {
 public:
  static Result<AtomicOutput> Create(const std::string& final_path);
  ~AtomicOutput();
  AtomicOutput(AtomicOutput&& other) noexcept;
  AtomicOutput& operator=(AtomicOutput&&) = delete;

  Status Write(ByteView data);
  Status Commit();
  const std::string& temp_path() const { return temp_path_; }
  uint64_t bytes_written() const { return written_; }

 private:
  AtomicOutput() = default;
  std::string final_path_;
  std::string temp_path_;
  int fd_ = -1;
  uint64_t written_ = 0;
  bool committed_ = false;
};

}  // namespace chatvault::whatsapp
