#include "backup/page_map.h"

#include <algorithm>

namespace chatvault::backup {

bool IsValidPageSize(uint64_t page_size) {
  return page_size >= kMinPageSize && page_size <= kMaxPageSize &&
         (page_size & (page_size - 1)) == 0;
}

uint32_t PagesInRegion(uint64_t region, uint64_t page_count, uint32_t page_size) {
  const uint64_t per = PagesPerRegion(page_size);
  const uint64_t first = region * per;
  if (first >= page_count) return 0;
  return static_cast<uint32_t>(std::min(per, page_count - first));
}

std::vector<uint64_t> ToGaps(const std::vector<uint32_t>& pages) {
  std::vector<uint64_t> gaps;
  gaps.reserve(pages.size());
  uint64_t previous = 0;
  for (size_t i = 0; i < pages.size(); ++i) {
    gaps.push_back(i == 0 ? pages[i] : pages[i] - previous);
    previous = pages[i];
  }
  return gaps;
}

Result<std::vector<uint32_t>> FromGaps(const std::vector<uint64_t>& gaps) {
  std::vector<uint32_t> pages;
  pages.reserve(gaps.size());
  uint64_t page = 0;
  for (size_t i = 0; i < gaps.size(); ++i) {
    if (i > 0 && gaps[i] == 0) return Corrupted("a pack lists a page twice");
    page = i == 0 ? gaps[i] : page + gaps[i];
    if (page > UINT32_MAX) return Corrupted("a pack lists a page beyond any database");
    pages.push_back(static_cast<uint32_t>(page));
  }
  return pages;
}

Status CheckPageMap(const PageMap& map, const std::vector<ChunkRef>& base, uint64_t size) {
  if (!IsValidPageSize(map.page_size)) return Corrupted("the database's page size is not valid");
  if (map.page_count == 0 || map.page_count * map.page_size != size) {
    return Corrupted("the database's page count does not match its size");
  }
  if (map.digest.size() != 64) return Corrupted("the database's page digest is malformed");
  const uint64_t regions = RegionCount(map.page_count, map.page_size);
  if (base.size() > regions) return Corrupted("the database lists base chunks beyond its end");

  // Every page restore takes from a pack, in one ascending list: no page may come from two packs.
  std::vector<uint32_t> packed;
  for (const PackRef& pack : map.packs) {
    if (pack.live.size() > pack.stored) return Corrupted("a pack lists more pages than it holds");
    if (!pack.live.empty() && pack.live.back() >= map.page_count) {
      return Corrupted("a pack lists a page beyond the end of the database");
    }
    packed.insert(packed.end(), pack.live.begin(), pack.live.end());
  }
  std::sort(packed.begin(), packed.end());
  if (std::adjacent_find(packed.begin(), packed.end()) != packed.end()) {
    return Corrupted("two packs list the same page");
  }
  // Each region's pages beyond what its base chunk holds must all come from packs.
  const uint32_t per = PagesPerRegion(map.page_size);
  for (uint64_t r = 0; r < regions; ++r) {
    uint32_t covered = 0;
    if (r < base.size() && !base[r].id.empty()) {
      const uint64_t bytes = base[r].size;
      if (bytes == 0 || bytes % map.page_size != 0 || bytes > kDatabaseChunkSize) {
        return Corrupted("a base chunk of the database has a size that is not whole pages");
      }
      covered = BasePages(bytes, map.page_size);
    }
    const uint32_t in_region = PagesInRegion(r, map.page_count, map.page_size);
    if (covered >= in_region) continue;
    const uint64_t first = r * per + covered;
    const uint64_t end = r * per + in_region;
    const auto lo = std::lower_bound(packed.begin(), packed.end(), first);
    const auto hi = std::lower_bound(lo, packed.end(), end);
    if (static_cast<uint64_t>(hi - lo) != end - first) {
      return Corrupted("page " + std::to_string(first + 1) +
                       " of the database has no copy in the backup");
    }
  }
  return OkStatus();
}

}  // namespace chatvault::backup
