// Where each page of a backed-up msgstore.db lives (docs/BACKUP.md, "The database, page by page"):
// base chunks, one per 1 MiB region of the file, plus page packs that hold pages changed since
// their region's base chunk was written. The manifest lists, for each pack, the pages restore
// takes from it; every other page comes from its region's base chunk. So each page has exactly
// one source, named by the authenticated manifest.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "backup/layout.h"
#include "backup/manifest.h"
#include "chatvault/common/status.h"

namespace chatvault::backup {

// SQLite's page sizes: a power of two from 512 to 65536. All of them divide a region.
inline constexpr uint32_t kMinPageSize = 512;
inline constexpr uint32_t kMaxPageSize = 65536;
bool IsValidPageSize(uint64_t page_size);

// A region is the part of the database one base chunk holds: kDatabaseChunkSize bytes, so region
// r holds pages [r * PagesPerRegion, (r + 1) * PagesPerRegion).
inline uint32_t PagesPerRegion(uint32_t page_size) {
  return static_cast<uint32_t>(kDatabaseChunkSize / page_size);
}
inline uint64_t RegionCount(uint64_t page_count, uint32_t page_size) {
  const uint64_t per = PagesPerRegion(page_size);
  return (page_count + per - 1) / per;
}
// Pages of region `r` in a database of `page_count` pages (the last region may be short).
uint32_t PagesInRegion(uint64_t region, uint64_t page_count, uint32_t page_size);

// Checks that `map` with base chunks `base` (one per region, empty id for a region without one)
// names exactly one source for every page below page_count, and that sizes agree. kCorrupted with
// the reason otherwise. Only a faulty writer produces such a map, but restore must refuse it.
Status CheckPageMap(const PageMap& map, const std::vector<ChunkRef>& base, uint64_t size);

// Pages a base chunk of `bytes` holds.
inline uint32_t BasePages(uint64_t bytes, uint32_t page_size) {
  return static_cast<uint32_t>(bytes / page_size);
}

// Ascending page numbers as gaps: the first number, then each difference to the previous one.
// Runs of consecutive pages become runs of 1s, which zstd shrinks to almost nothing.
std::vector<uint64_t> ToGaps(const std::vector<uint32_t>& pages);
Result<std::vector<uint32_t>> FromGaps(const std::vector<uint64_t>& gaps);

}  // namespace chatvault::backup
