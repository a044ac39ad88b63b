// page-diff OLD NEW: how many pages of the SQLite database NEW differ from OLD (pages past OLD's
// end count as changed), and how small they compress. Prints one line:
//   page_size pages_changed pages_total changed_bytes changed_zstd3_bytes
// where the last is the size of the changed pages, one after the other, compressed with zstd at
// its default level 3: the measure bench/compare_days.sh holds a day's upload against.
#include <zstd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

namespace {

std::vector<char> Slurp(const char* path, bool& ok) {
  std::ifstream in(path, std::ios::binary);
  ok = in.is_open();
  return std::vector<char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// The page size from the header (bytes 16-17, big-endian, 1 meaning 65536); 0 if not one SQLite
// allows, so a file that is not a database is not diffed in meaningless slices.
size_t PageSize(const std::vector<char>& db) {
  if (db.size() < 100) return 0;
  const unsigned raw = static_cast<unsigned char>(db[16]) << 8 | static_cast<unsigned char>(db[17]);
  const size_t size = raw == 1 ? 65536 : raw;
  const bool power_of_two = size != 0 && (size & (size - 1)) == 0;
  return power_of_two && size >= 512 && size <= 65536 ? size : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: page-diff OLD NEW\n";
    return 2;
  }
  bool old_ok = false, new_ok = false;
  const std::vector<char> old_db = Slurp(argv[1], old_ok);
  const std::vector<char> new_db = Slurp(argv[2], new_ok);
  if (!old_ok || !new_ok) {
    std::cerr << "page-diff: cannot read " << (old_ok ? argv[2] : argv[1]) << "\n";
    return 1;
  }
  const size_t page_size = PageSize(new_db);
  if (page_size == 0) {
    std::cerr << "page-diff: " << argv[2] << " is not a SQLite database\n";
    return 1;
  }
  std::vector<char> changed;
  size_t pages_changed = 0;
  for (size_t offset = 0; offset + page_size <= new_db.size(); offset += page_size) {
    const bool same = offset + page_size <= old_db.size() &&
                      std::equal(new_db.begin() + offset, new_db.begin() + offset + page_size,
                                 old_db.begin() + offset);
    if (same) continue;
    ++pages_changed;
    changed.insert(changed.end(), new_db.begin() + offset, new_db.begin() + offset + page_size);
  }
  std::vector<char> compressed(ZSTD_compressBound(changed.size()));
  const size_t zsize =
      ZSTD_compress(compressed.data(), compressed.size(), changed.data(), changed.size(), 3);
  if (ZSTD_isError(zsize)) {
    std::cerr << "page-diff: " << ZSTD_getErrorName(zsize) << "\n";
    return 1;
  }
  std::printf("%zu %zu %zu %zu %zu\n", page_size, pages_changed, new_db.size() / page_size,
              changed.size(), zsize);
  return 0;
}
