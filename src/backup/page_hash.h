// Keyed page hashes: how a backup tells which pages of msgstore.db changed without downloading
// what the current backup holds (docs/BACKUP.md). A page's hash is the first 16 bytes of
// HMAC-SHA256(HKDF(K, "page-hash"), page): keyed, so the provider cannot test guesses of a page's
// content against the hash lists it stores; 128 bits, so two versions of a page collide (and a
// change goes unnoticed) with negligible probability.
//
// A database's page digest is SHA-256 over its page hashes in page order. The manifest records it
// and restore recomputes it from what it wrote, so a page taken from the wrong place is caught
// whatever went wrong; it is also how a list of page hashes proves it describes a backup.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/key/backup_key.h"

namespace chatvault::backup {

inline constexpr size_t kPageHashSize = 16;

class PageHasher {
 public:
  explicit PageHasher(const key::BackupKey& key);
  // Hashes each whole page of `data` (a multiple of page_size) into `out`, 16 bytes per page.
  void Hash(ByteView data, uint32_t page_size, uint8_t* out) const;
  Bytes Hash(ByteView data, uint32_t page_size) const;

 private:
  crypto::Secret key_;
};

// The page hashes stored beside a base chunk or a pack (object "pagehashes/<id>"): in the
// object's page order; a pack's list also names its pages, a base chunk's does not (its pages are
// the region it sits at, and equal chunks at two regions share one list).
struct PageHashList {
  std::vector<uint32_t> pages;  // empty for a base chunk
  Bytes hashes;                 // 16 bytes per page
  size_t count() const { return hashes.size() / kPageHashSize; }
};
Bytes EncodePageHashList(const PageHashList& list);
Result<PageHashList> DecodePageHashList(ByteView plaintext);

// A flat file of page hashes in page order, 16 bytes a page after a short header naming the page
// size and count: the device's cache of what the current backup holds, and the lists a backup
// builds as it goes. Read and written sequentially (buffered) or at a page; memory does not grow
// with the database.
class PageHashFile {
 public:
  // Creates `path` (replacing it) for `page_count` hashes of pages of `page_size` bytes. Pages
  // not written read back as zeros, which no page hashes to in practice: such a page counts as
  // changed.
  static Result<PageHashFile> Create(const std::string& path, uint32_t page_size,
                                     uint64_t page_count);
  // kNotFound when there is no file; kCorrupted when its header or size is wrong.
  static Result<PageHashFile> Open(const std::string& path);
  ~PageHashFile();
  PageHashFile(PageHashFile&& other) noexcept;
  PageHashFile& operator=(PageHashFile&&) = delete;
  PageHashFile(const PageHashFile&) = delete;
  PageHashFile& operator=(const PageHashFile&) = delete;

  uint32_t page_size() const { return page_size_; }
  uint64_t page_count() const { return page_count_; }
  const std::string& path() const { return path_; }

  // Sequential writing from page 0 on, and reading from page 0 on; each keeps its own position.
  Status Append(ByteView hashes);
  Status ReadNext(size_t pages, uint8_t* out);
  // Random access (unbuffered); the appended bytes must be flushed first.
  Status WriteAt(uint64_t page, ByteView hashes) const;
  Status ReadAt(uint64_t page, size_t pages, uint8_t* out) const;
  Status Flush();
  // Hex SHA-256 of every hash in page order: the database's page digest.
  Result<std::string> Digest() const;

 private:
  PageHashFile(int fd, std::string path, uint32_t page_size, uint64_t page_count)
      : fd_(fd), path_(std::move(path)), page_size_(page_size), page_count_(page_count) {}
  Status Fail(const std::string& what) const;

  int fd_ = -1;
  std::string path_;
  uint32_t page_size_ = 0;
  uint64_t page_count_ = 0;
  Bytes write_buffer_;
  uint64_t write_page_ = 0;  // next page Append writes
  Bytes read_buffer_;
  size_t read_offset_ = 0;  // into read_buffer_
  uint64_t read_page_ = 0;  // page at the start of what is left to read from the file
};

}  // namespace chatvault::backup
