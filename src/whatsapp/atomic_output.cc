#include "whatsapp/atomic_output.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace chatvault::whatsapp {
namespace {

Status Errno(const std::string& what) {
  return IoError(what + ": " + std::strerror(errno));
}

}  // namespace

Result<AtomicOutput> AtomicOutput::Create(const std::string& final_path) {
  AtomicOutput out;
  out.final_path_ = final_path;
  out.temp_path_ = final_path + ".partial-XXXXXX";
  out.fd_ = ::mkstemp(out.temp_path_.data());
  if (out.fd_ < 0) {
    out.temp_path_.clear();
    return Errno("cannot create a temporary file next to " + final_path);
  }
  ::fchmod(out.fd_, 0600);  // chat history is private; the final file keeps these permissions
  return out;
}

AtomicOutput::AtomicOutput(AtomicOutput&& other) noexcept
    : final_path_(std::move(other.final_path_)),
      temp_path_(std::move(other.temp_path_)),
      fd_(other.fd_),
      written_(other.written_),
      committed_(other.committed_) {
  other.fd_ = -1;
  other.temp_path_.clear();
}

AtomicOutput::~AtomicOutput() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !temp_path_.empty()) ::unlink(temp_path_.c_str());
}

Status AtomicOutput::Write(ByteView data) {
  const uint8_t* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    const ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno("cannot write " + final_path_);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  written_ += data.size();
  return OkStatus();
}

Status AtomicOutput::Commit() {
  if (::fsync(fd_) != 0) return Errno("cannot flush " + final_path_);
  if (::close(fd_) != 0) {
    fd_ = -1;
    return Errno("cannot close " + final_path_);
  }
  fd_ = -1;
  if (::rename(temp_path_.c_str(), final_path_.c_str()) != 0) {
    return Errno("cannot move the finished file to " + final_path_);
  }
  committed_ = true;
  // Make the rename itself durable.
  std::string dir = std::filesystem::path(final_path_).parent_path().string();
  if (dir.empty()) dir = ".";
  const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return OkStatus();
}

}  // namespace chatvault::whatsapp
