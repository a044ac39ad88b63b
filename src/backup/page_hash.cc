#include "backup/page_hash.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "chatvault/crypto/hash.h"
#include "chatvault/crypto/hkdf.h"

namespace chatvault::backup {
namespace {

constexpr char kListMagic[8] = {'C', 'V', 'P', 'G', 'H', 'L', '1', '\n'};
constexpr char kFileMagic[8] = {'C', 'V', 'P', 'G', 'H', 'F', '1', '\n'};
constexpr size_t kFileHeaderSize = 8 + 4 + 8;
// Buffered sequential access moves 64 KiB (4096 page hashes) per system call.
constexpr size_t kBufferBytes = 64 << 10;

uint64_t Offset(uint64_t page) { return kFileHeaderSize + page * kPageHashSize; }

Status ReadFully(int fd, uint8_t* out, size_t n, uint64_t offset, size_t* got) {
  *got = 0;
  while (*got < n) {
    const ssize_t r = ::pread(fd, out + *got, n - *got, static_cast<off_t>(offset + *got));
    if (r < 0) {
      if (errno == EINTR) continue;
      return IoError(std::strerror(errno));
    }
    if (r == 0) break;
    *got += static_cast<size_t>(r);
  }
  return OkStatus();
}

Status WriteFully(int fd, const uint8_t* data, size_t n, uint64_t offset) {
  size_t done = 0;
  while (done < n) {
    const ssize_t w = ::pwrite(fd, data + done, n - done, static_cast<off_t>(offset + done));
    if (w < 0) {
      if (errno == EINTR) continue;
      return IoError(std::strerror(errno));
    }
    done += static_cast<size_t>(w);
  }
  return OkStatus();
}

}  // namespace

PageHasher::PageHasher(const key::BackupKey& key)
    : key_(crypto::DeriveSubkey(key.secret(), {}, "page-hash")) {}

void PageHasher::Hash(ByteView data, uint32_t page_size, uint8_t* out) const {
  for (size_t offset = 0; offset + page_size <= data.size(); offset += page_size) {
    const Bytes mac = crypto::HmacSha256(key_.view(), data.subspan(offset, page_size));
    std::memcpy(out, mac.data(), kPageHashSize);
    out += kPageHashSize;
  }
}

Bytes PageHasher::Hash(ByteView data, uint32_t page_size) const {
  Bytes out(data.size() / page_size * kPageHashSize);
  Hash(data, page_size, out.data());
  return out;
}

Bytes EncodePageHashList(const PageHashList& list) {
  Bytes out(kListMagic, kListMagic + sizeof kListMagic);
  AppendU32BE(out, static_cast<uint32_t>(list.count()));
  out.push_back(list.pages.empty() ? 0 : 1);
  for (uint32_t page : list.pages) AppendU32BE(out, page);
  Append(out, list.hashes);
  return out;
}

Result<PageHashList> DecodePageHashList(ByteView plaintext) {
  constexpr size_t kHeader = sizeof kListMagic + 4 + 1;
  if (plaintext.size() < kHeader ||
      std::memcmp(plaintext.data(), kListMagic, sizeof kListMagic) != 0) {
    return Corrupted("a page hash list is not in the expected form");
  }
  const uint64_t count = ReadU32BE(plaintext.data() + sizeof kListMagic);
  const uint8_t numbered = plaintext[sizeof kListMagic + 4];
  const uint64_t expected = kHeader + count * (numbered ? 4 : 0) + count * kPageHashSize;
  if (numbered > 1 || plaintext.size() != expected) {
    return Corrupted("a page hash list has the wrong size");
  }
  PageHashList list;
  const uint8_t* p = plaintext.data() + kHeader;
  if (numbered) {
    for (uint64_t i = 0; i < count; ++i, p += 4) list.pages.push_back(ReadU32BE(p));
  }
  list.hashes.assign(p, plaintext.data() + plaintext.size());
  return list;
}

Result<PageHashFile> PageHashFile::Create(const std::string& path, uint32_t page_size,
                                          uint64_t page_count) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return IoError("cannot create " + path + ": " + std::strerror(errno));
  PageHashFile file(fd, path, page_size, page_count);
  Bytes header(kFileMagic, kFileMagic + sizeof kFileMagic);
  AppendU32BE(header, page_size);
  AppendU64BE(header, page_count);
  if (Status s = WriteFully(fd, header.data(), header.size(), 0); !s.ok()) {
    return s.Annotate("cannot write " + path);
  }
  if (::ftruncate(fd, static_cast<off_t>(Offset(page_count))) != 0) {
    return file.Fail("cannot size");
  }
  return file;
}

Result<PageHashFile> PageHashFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound(path + " does not exist");
    return IoError("cannot open " + path + ": " + std::strerror(errno));
  }
  PageHashFile file(fd, path, 0, 0);
  uint8_t header[kFileHeaderSize];
  size_t got = 0;
  struct stat st;
  if (!ReadFully(fd, header, sizeof header, 0, &got).ok() || ::fstat(fd, &st) != 0) {
    return file.Fail("cannot read");
  }
  if (got != sizeof header || std::memcmp(header, kFileMagic, sizeof kFileMagic) != 0) {
    return Corrupted(path + " is not a page hash file");
  }
  file.page_size_ = ReadU32BE(header + 8);
  file.page_count_ = ReadU64BE(header + 12);
  if (file.page_count_ > (uint64_t{1} << 40) ||
      static_cast<uint64_t>(st.st_size) != Offset(file.page_count_)) {
    return Corrupted(path + " has the wrong size");
  }
  return file;
}

PageHashFile::~PageHashFile() {
  if (fd_ >= 0) ::close(fd_);
}

PageHashFile::PageHashFile(PageHashFile&& other) noexcept
    : fd_(other.fd_),
      path_(std::move(other.path_)),
      page_size_(other.page_size_),
      page_count_(other.page_count_),
      write_buffer_(std::move(other.write_buffer_)),
      write_page_(other.write_page_),
      read_buffer_(std::move(other.read_buffer_)),
      read_offset_(other.read_offset_),
      read_page_(other.read_page_) {
  other.fd_ = -1;
}

Status PageHashFile::Fail(const std::string& what) const {
  return IoError(what + " " + path_ + ": " + std::strerror(errno));
}

Status PageHashFile::Append(ByteView hashes) {
  chatvault::Append(write_buffer_, hashes);
  if (write_buffer_.size() >= kBufferBytes) return Flush();
  return OkStatus();
}

Status PageHashFile::Flush() {
  const uint64_t pages = write_buffer_.size() / kPageHashSize;
  if (write_page_ + pages > page_count_) return Internal("too many page hashes for " + path_);
  if (!WriteFully(fd_, write_buffer_.data(), write_buffer_.size(), Offset(write_page_)).ok()) {
    return Fail("cannot write");
  }
  write_page_ += pages;
  write_buffer_.clear();
  return OkStatus();
}

Status PageHashFile::ReadNext(size_t pages, uint8_t* out) {
  size_t want = pages * kPageHashSize;
  while (want > 0) {
    if (read_offset_ == read_buffer_.size()) {
      const uint64_t left = (page_count_ - read_page_) * kPageHashSize;
      const size_t chunk = static_cast<size_t>(std::min<uint64_t>(kBufferBytes, left));
      if (chunk == 0) return Internal("reading beyond the page hashes of " + path_);
      read_buffer_.resize(chunk);
      size_t got = 0;
      if (!ReadFully(fd_, read_buffer_.data(), chunk, Offset(read_page_), &got).ok()) {
        return Fail("cannot read");
      }
      if (got != chunk) return Corrupted(path_ + " ends early");
      read_page_ += chunk / kPageHashSize;
      read_offset_ = 0;
    }
    const size_t n = std::min(want, read_buffer_.size() - read_offset_);
    std::memcpy(out, read_buffer_.data() + read_offset_, n);
    out += n;
    read_offset_ += n;
    want -= n;
  }
  return OkStatus();
}

Status PageHashFile::WriteAt(uint64_t page, ByteView hashes) const {
  if (page + hashes.size() / kPageHashSize > page_count_) {
    return Internal("a page hash beyond the end of " + path_);
  }
  if (!WriteFully(fd_, hashes.data(), hashes.size(), Offset(page)).ok())
    return Fail("cannot write");
  return OkStatus();
}

Status PageHashFile::ReadAt(uint64_t page, size_t pages, uint8_t* out) const {
  if (page + pages > page_count_) return Internal("a page hash beyond the end of " + path_);
  size_t got = 0;
  if (!ReadFully(fd_, out, pages * kPageHashSize, Offset(page), &got).ok()) {
    return Fail("cannot read");
  }
  if (got != pages * kPageHashSize) return Corrupted(path_ + " ends early");
  return OkStatus();
}

Result<std::string> PageHashFile::Digest() const {
  crypto::Hasher sha(crypto::HashAlg::kSha256);
  Bytes buffer(kBufferBytes);
  const uint64_t end = Offset(page_count_);
  for (uint64_t offset = kFileHeaderSize; offset < end;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(buffer.size(), end - offset));
    size_t got = 0;
    if (!ReadFully(fd_, buffer.data(), n, offset, &got).ok()) return Fail("cannot read");
    if (got != n) return Corrupted(path_ + " ends early");
    sha.Update(ByteView(buffer.data(), n));
    offset += n;
  }
  return HexEncode(sha.Finish());
}

}  // namespace chatvault::backup
