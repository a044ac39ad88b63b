#include "backup/rebase_plan.h"

#include <algorithm>

namespace chatvault::backup {
namespace {

// Carries out actions on the counts, keeping the waste and the packs' live pages up to date.
class Planner {
 public:
  Planner(const std::vector<RegionCounts>& regions, const std::vector<PackCounts>& packs,
          const PlanLimits& limits)
      : regions_(regions), packs_(packs), limits_(limits), carried_(regions.size(), 0) {
    plan_.rebase.assign(regions.size(), false);
    plan_.drop.assign(packs.size(), false);
    uint64_t changed = 0;
    for (const RegionCounts& r : regions) {
      waste_ += RegionWaste(r);
      new_pack_pages_ += r.changed;
      changed += r.changed;
    }
    for (const PackCounts& p : packs) {
      uint32_t live = 0;
      for (const auto& [region, count] : p.live_by_region) live += count;
      live_.push_back(live);
      waste_ += p.stored - live;
    }
    allowance_ = static_cast<uint64_t>(limits.allowance * static_cast<double>(changed));
  }

  RebasePlan Run() {
    Repair();
    TakeFreeActions();
    // Within the allowance once half the waste limit is reached, or when there are too many packs.
    while (waste_ > limits_.waste_limit / 2 || TooManyPacks()) {
      if (!TakeBestAction(/*within_allowance=*/true)) break;
      TakeFreeActions();
    }
    while (waste_ > limits_.waste_limit || TooManyPacks()) {
      const bool over_waste = waste_ > limits_.waste_limit;
      if (!TakeBestAction(/*within_allowance=*/false)) break;
      if (plan_.forced.empty()) {
        plan_.forced = over_waste ? "a restore would read more than the limit of " +
                                        std::to_string(limits_.waste_limit) + " unused pages"
                                  : "the backup would list more than " +
                                        std::to_string(limits_.max_packs) + " packs";
      }
      TakeFreeActions();
    }
    plan_.waste = waste_;
    plan_.new_pack_pages = new_pack_pages_;
    plan_.packs_after = PacksAfter();
    plan_.spent = spent_;
    return plan_;
  }

 private:
  static uint64_t RegionWaste(const RegionCounts& r) {
    if (r.base_pages == 0) return 0;
    const uint32_t beyond = r.base_pages > r.pages ? r.base_pages - r.pages : 0;
    return uint64_t{r.changed_in_base} + r.packed_in_base + beyond;
  }

  uint32_t PacksAfter() const {
    uint32_t kept = 0;
    for (size_t q = 0; q < packs_.size(); ++q) kept += !plan_.drop[q] && live_[q] > 0;
    const uint64_t cap = std::max<uint32_t>(1, limits_.pack_capacity);
    return kept + static_cast<uint32_t>((new_pack_pages_ + cap - 1) / cap);
  }
  bool TooManyPacks() const { return PacksAfter() > limits_.max_packs; }

  uint64_t RebaseCost(size_t r) const {
    const RegionCounts& region = regions_[r];
    const uint64_t uploaded_anyway = uint64_t{region.changed} + carried_[r];
    return region.pages > uploaded_anyway ? region.pages - uploaded_anyway : 0;
  }

  static uint32_t LiveIn(const PackCounts& pack, uint64_t region) {
    auto it = std::lower_bound(pack.live_by_region.begin(), pack.live_by_region.end(),
                               std::make_pair(region, uint32_t{0}));
    return it != pack.live_by_region.end() && it->first == region ? it->second : 0;
  }

  void Rebase(size_t r, uint64_t cost) {
    plan_.rebase[r] = true;
    spent_ += cost;
    waste_ -= RegionWaste(regions_[r]);
    new_pack_pages_ -= regions_[r].changed + carried_[r];
    carried_[r] = 0;
    for (size_t q = 0; q < packs_.size(); ++q) {
      if (plan_.drop[q]) continue;
      const uint32_t gone = LiveIn(packs_[q], r);
      live_[q] -= gone;  // those pages now come from the new base chunk: dead in the pack
      waste_ += gone;
    }
  }

  void Drop(size_t q) {
    plan_.drop[q] = true;
    spent_ += live_[q];
    waste_ -= packs_[q].stored - live_[q];
    for (const auto& [region, count] : packs_[q].live_by_region) {
      if (plan_.rebase[region]) continue;
      carried_[region] += count;
      new_pack_pages_ += count;
    }
  }

  // What the location lost must be written again, whatever it costs.
  void Repair() {
    for (size_t r = 0; r < regions_.size(); ++r) {
      if (regions_[r].base_missing && regions_[r].base_pages > 0) Rebase(r, RebaseCost(r));
    }
    for (size_t q = 0; q < packs_.size(); ++q) {
      if (packs_[q].missing && !plan_.drop[q]) Drop(q);
    }
  }

  // A region whose every page is uploaded anyway is better as a base chunk than in a pack; a
  // pack nothing takes from any more goes.
  void TakeFreeActions() {
    for (size_t r = 0; r < regions_.size(); ++r) {
      if (!plan_.rebase[r] && regions_[r].pages > 0 && RebaseCost(r) == 0) Rebase(r, 0);
    }
    for (size_t q = 0; q < packs_.size(); ++q) {
      if (!plan_.drop[q] && live_[q] == 0) Drop(q);
    }
  }

  // The action that removes the most waste per page uploaded; with too many packs, the cheapest
  // way to one pack fewer. False when nothing (affordable) is left.
  bool TakeBestAction(bool within_allowance) {
    const uint64_t budget =
        within_allowance ? (allowance_ > spent_ ? allowance_ - spent_ : 0) : UINT64_MAX;
    const bool count_first = TooManyPacks() && waste_ <= limits_.waste_limit / 2;
    double best = -1;
    size_t best_index = 0;
    bool best_is_region = false;
    auto consider = [&](double value, size_t index, bool is_region, uint64_t cost) {
      if (cost > budget || value <= best) return;
      best = value;
      best_index = index;
      best_is_region = is_region;
    };
    for (size_t q = 0; q < packs_.size(); ++q) {
      if (plan_.drop[q]) continue;
      const double live = std::max<uint32_t>(1, live_[q]);
      const double value = count_first ? 1.0 / live : (packs_[q].stored - live_[q]) / live;
      consider(value, q, false, live_[q]);
    }
    for (size_t r = 0; r < regions_.size(); ++r) {
      if (plan_.rebase[r] || regions_[r].pages == 0) continue;
      const uint64_t cost = RebaseCost(r);
      const double per = static_cast<double>(std::max<uint64_t>(1, cost));
      // With too many packs, a region takes pages out of the new packs; otherwise it removes the
      // base chunk's waste. Packs are tried first for the count (they are usually cheaper).
      const double value = count_first ? (regions_[r].changed + carried_[r]) / per / 2
                                       : RegionWaste(regions_[r]) / per;
      if (value > 0) consider(value, r, true, cost);
    }
    if (best < 0) return false;
    if (best_is_region) {
      Rebase(best_index, RebaseCost(best_index));
    } else {
      Drop(best_index);
    }
    return true;
  }

  const std::vector<RegionCounts>& regions_;
  const std::vector<PackCounts>& packs_;
  const PlanLimits& limits_;
  RebasePlan plan_;
  std::vector<uint32_t> live_;     // per pack: pages restore still takes from it
  std::vector<uint32_t> carried_;  // per region: pages of dropped packs going into the new pack
  uint64_t waste_ = 0;
  uint64_t new_pack_pages_ = 0;
  uint64_t allowance_ = 0;
  uint64_t spent_ = 0;
};

}  // namespace

RebasePlan PlanRebase(const std::vector<RegionCounts>& regions,
                      const std::vector<PackCounts>& packs, const PlanLimits& limits) {
  return Planner(regions, packs, limits).Run();
}

}  // namespace chatvault::backup
