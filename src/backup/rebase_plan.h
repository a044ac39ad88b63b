// Folding packs back into the base (docs/BACKUP.md, "Folding packs back"): which regions a backup
// rewrites as new base chunks and which packs it drops, given what changed. A pure function of
// counts, so it can be tested on its own; database_backup.cc gathers the counts and carries the
// plan out.
//
// Waste is what a restore reads and throws away: a base chunk's pages that packs override (or
// that lie beyond a shrunk database) and a pack's pages that nothing takes from it any more.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace chatvault::backup {

struct RegionCounts {
  uint32_t pages = 0;            // pages of the region in the new database
  uint32_t base_pages = 0;       // pages the current base chunk holds (0: no base chunk)
  bool base_missing = false;     // the base chunk is gone from the location: must be rewritten
  uint32_t changed = 0;          // pages that changed (or are new) in this backup
  uint32_t changed_in_base = 0;  // of those, pages the base chunk holds
  uint32_t packed_in_base = 0;   // pages the base chunk holds that kept packs override
};

struct PackCounts {
  uint32_t stored = 0;   // pages the pack object holds
  bool missing = false;  // gone from the location: its pages must be written again
  // The pages restore still takes from it (unchanged since), by region: (region, count),
  // ascending by region.
  std::vector<std::pair<uint64_t, uint32_t>> live_by_region;
};

struct PlanLimits {
  // Folding work a backup may do beyond its new pack, in pages, as a share of the pages that
  // changed: the new pack is about the compressed changed pages, so 0.4 keeps a day's upload
  // within 1.5x of them with room for the manifest and page hash lists.
  double allowance = 0.4;
  // Waste a backup may leave, in pages: the restore target turned into a bound (the caller
  // computes it). Folding starts within the allowance once half of it is reached.
  uint64_t waste_limit = 0;
  uint32_t max_packs = 32;
  uint32_t pack_capacity = 1024;  // pages per pack
};

struct RebasePlan {
  std::vector<bool> rebase;  // per region: write a new base chunk
  std::vector<bool> drop;    // per pack: no longer listed (its live pages go into the new pack)
  uint64_t waste = 0;        // pages, after the plan
  uint64_t new_pack_pages = 0;
  uint32_t packs_after = 0;  // kept packs plus new ones
  uint64_t spent = 0;        // pages uploaded beyond the changed pages
  // Set when the limits made the backup fold more than its allowance: why, in a few words.
  std::string forced;
};

RebasePlan PlanRebase(const std::vector<RegionCounts>& regions,
                      const std::vector<PackCounts>& packs, const PlanLimits& limits);

}  // namespace chatvault::backup
