#include "backup/database_scan.h"

#include <sys/stat.h>

#include <cstring>

#include "backup/file_reader.h"
#include "backup/ordered_window.h"
#include "backup/page_map.h"
#include "chatvault/crypto/hash.h"

namespace chatvault::backup {

Result<std::optional<DatabaseShape>> ReadDatabaseShape(const std::string& path) {
  CV_ASSIGN_OR_RETURN(FileReader reader, FileReader::Open(path));
  Bytes header;
  CV_RETURN_IF_ERROR(reader.Read(100, header));
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return IoError("cannot stat " + path);
  static constexpr char kMagic[16] = "SQLite format 3";  // with its terminating zero
  if (header.size() < 100 || std::memcmp(header.data(), kMagic, sizeof kMagic) != 0) {
    return std::optional<DatabaseShape>();
  }
  const uint32_t raw = ReadU16BE(header.data() + 16);
  const uint32_t page_size = raw == 1 ? 65536 : raw;
  const auto size = static_cast<uint64_t>(st.st_size);
  if (!IsValidPageSize(page_size) || size % page_size != 0 || size / page_size > UINT32_MAX) {
    return std::optional<DatabaseShape>();
  }
  return std::optional<DatabaseShape>(DatabaseShape{page_size, size / page_size});
}

namespace {

// Hashing runs on workers a few regions ahead of the comparison, which needs them in order.
class Scanner {
 public:
  Scanner(const DatabaseShape& shape, const PageHasher& hasher, PageHashFile* old,
          PageHashFile& out, const ScanOptions& options)
      : shape_(shape),
        hasher_(hasher),
        old_(old),
        out_(out),
        options_(options),
        window_(
            options.threads, Window::TwoPerWorker(options.threads),
            [this](Region& region, Bytes hashes) { return Compare(region, std::move(hashes)); }) {}

  Result<ScanResult> Run(const std::string& snapshot) {
    CV_ASSIGN_OR_RETURN(FileReader reader, FileReader::Open(snapshot));
    const uint64_t regions = RegionCount(shape_.page_count, shape_.page_size);
    for (uint64_t r = 0; r < regions; ++r) {
      Bytes data = options_.take_buffer ? options_.take_buffer() : Bytes();
      CV_RETURN_IF_ERROR(reader.Read(kDatabaseChunkSize, data));
      const uint64_t expected =
          uint64_t{PagesInRegion(r, shape_.page_count, shape_.page_size)} * shape_.page_size;
      if (data.size() != expected) return IoError("the database snapshot changed while read");
      read_ += data.size();
      if (options_.progress) options_.progress(read_);
      auto shared = std::make_shared<Bytes>(std::move(data));
      const uint32_t page_size = shape_.page_size;
      const PageHasher& hasher = hasher_;
      CV_RETURN_IF_ERROR(window_.Submit(
          {r, shared}, [shared, page_size, &hasher] { return hasher.Hash(*shared, page_size); }));
    }
    CV_RETURN_IF_ERROR(window_.Drain());
    CV_RETURN_IF_ERROR(out_.Flush());
    result_.digest = HexEncode(digest_.Finish());
    return std::move(result_);
  }

 private:
  struct Region {
    uint64_t index;
    std::shared_ptr<Bytes> data;
  };
  using Window = OrderedWindow<Bytes, Region>;

  // Compares a region's hashes (in order) with the old ones and hands the region on.
  Status Compare(Region& job, Bytes hashes) {
    const uint64_t first = job.index * PagesPerRegion(shape_.page_size);
    const size_t pages = hashes.size() / kPageHashSize;
    const uint64_t old_pages = old_ ? old_->page_count() : 0;
    const size_t comparable =
        first >= old_pages ? 0 : static_cast<size_t>(std::min<uint64_t>(pages, old_pages - first));
    old_hashes_.resize(comparable * kPageHashSize);
    if (comparable > 0) CV_RETURN_IF_ERROR(old_->ReadNext(comparable, old_hashes_.data()));
    for (size_t i = 0; i < pages; ++i) {
      const bool same =
          i < comparable && std::memcmp(hashes.data() + i * kPageHashSize,
                                        old_hashes_.data() + i * kPageHashSize, kPageHashSize) == 0;
      if (!same) result_.changed.push_back(static_cast<uint32_t>(first + i));
    }
    digest_.Update(hashes);
    CV_RETURN_IF_ERROR(out_.Append(hashes));
    if (options_.sink) return options_.sink(job.index, std::move(*job.data), std::move(hashes));
    if (options_.give_buffer) options_.give_buffer(std::move(*job.data));
    return OkStatus();
  }

  const DatabaseShape shape_;
  const PageHasher& hasher_;
  PageHashFile* old_;
  PageHashFile& out_;
  const ScanOptions& options_;
  crypto::Hasher digest_{crypto::HashAlg::kSha256};
  ScanResult result_;
  Bytes old_hashes_;
  uint64_t read_ = 0;
  // Last: destroyed first, so queued jobs finish while what they use still exists.
  Window window_;
};

}  // namespace

Result<ScanResult> ScanDatabase(const std::string& snapshot, const DatabaseShape& shape,
                                const PageHasher& hasher, PageHashFile* old, PageHashFile& out,
                                const ScanOptions& options) {
  return Scanner(shape, hasher, old, out, options).Run(snapshot);
}

}  // namespace chatvault::backup
