// A pack: whole pages of the database, each with its page number, in one object (docs/FORMAT.md).
// The numbers are part of the plaintext the pack id and the container authenticate, so a page
// cannot be moved to another place in the database without the restore noticing.
#pragma once

#include <cstdint>
#include <vector>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"

namespace chatvault::backup {

// At most this much page data per pack: a backup holds one pack in memory while it fills it,
// restore one per worker, as much as a media chunk. More changed pages make more packs.
inline constexpr uint64_t kMaxPackBytes = 4 << 20;
inline uint32_t PackCapacity(uint32_t page_size) {
  return static_cast<uint32_t>(kMaxPackBytes / page_size);
}

uint64_t PackPlaintextSize(uint64_t pages, uint32_t page_size);

// Starts a pack of `pages` (ascending) in `out`: the header and the page numbers. The caller
// then appends each page's bytes in the same order.
void BeginPack(const std::vector<uint32_t>& pages, uint32_t page_size, Bytes& out);

struct PackView {
  uint32_t page_size = 0;
  std::vector<uint32_t> pages;  // ascending
  ByteView data;                // the pages' bytes, in that order
  ByteView Page(size_t i) const { return data.subspan(i * page_size, page_size); }
};
// kCorrupted unless `plaintext` is a well-formed pack of `page_size` pages.
Result<PackView> ParsePack(ByteView plaintext, uint32_t page_size);

}  // namespace chatvault::backup
