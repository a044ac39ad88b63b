// The folding plan on hand-made counts: when it folds, how much, and that the limits hold.
#include <gtest/gtest.h>

#include "backup/rebase_plan.h"

namespace chatvault::backup {
namespace {

// `n` full regions of 256 pages, each with a base chunk.
std::vector<RegionCounts> Regions(size_t n) {
  std::vector<RegionCounts> out(n);
  for (auto& r : out) r.pages = r.base_pages = 256;
  return out;
}

void Change(RegionCounts& r, uint32_t pages) {
  r.changed += pages;
  r.changed_in_base += pages;
}

// A pack with `stored` pages of which `live` (in `region`) are still taken from it.
PackCounts Pack(uint32_t stored, uint64_t region, uint32_t live) {
  PackCounts p;
  p.stored = stored;
  if (live > 0) p.live_by_region = {{region, live}};
  return p;
}

PlanLimits Limits(uint64_t waste_limit) {
  PlanLimits l;
  l.waste_limit = waste_limit;
  return l;
}

size_t Count(const std::vector<bool>& v) {
  return static_cast<size_t>(std::count(v.begin(), v.end(), true));
}

TEST(RebasePlan, BelowHalfTheLimitOnlyTheChangedPagesAreUploaded) {
  auto regions = Regions(10);
  Change(regions[3], 5);
  Change(regions[7], 2);
  regions[3].packed_in_base = 15;
  const RebasePlan plan = PlanRebase(regions, {Pack(20, 3, 15)}, Limits(1000));
  EXPECT_EQ(Count(plan.rebase), 0u);
  EXPECT_EQ(Count(plan.drop), 0u);
  EXPECT_EQ(plan.spent, 0u);
  EXPECT_EQ(plan.new_pack_pages, 7u);
  EXPECT_EQ(plan.packs_after, 2u);
  EXPECT_TRUE(plan.forced.empty());
  // 7 changed pages override the base, 15 pack pages do too (5 of the pack's are dead).
  EXPECT_EQ(plan.waste, 7u + 15u + 5u);
}

TEST(RebasePlan, ARegionEveryPageOfWhichChangedBecomesABaseChunkForFree) {
  auto regions = Regions(4);
  Change(regions[1], 256);
  regions.push_back({100, 0, false, 100, 0, 0});  // growth: a new region, all of it new
  const RebasePlan plan = PlanRebase(regions, {}, Limits(1000));
  EXPECT_TRUE(plan.rebase[1]);
  EXPECT_TRUE(plan.rebase[4]);
  EXPECT_EQ(plan.new_pack_pages, 0u);
  EXPECT_EQ(plan.spent, 0u);
  EXPECT_EQ(plan.waste, 0u);
}

TEST(RebasePlan, APackNothingTakesFromIsDropped) {
  auto regions = Regions(2);
  const RebasePlan plan = PlanRebase(regions, {Pack(30, 0, 0), Pack(10, 1, 4)}, Limits(1000));
  EXPECT_TRUE(plan.drop[0]);
  EXPECT_FALSE(plan.drop[1]);
  EXPECT_EQ(plan.spent, 0u);
}

TEST(RebasePlan, BetweenHalfTheLimitAndTheLimitFoldingStaysWithinTheAllowance) {
  auto regions = Regions(20);
  for (auto& r : regions) Change(r, 10);  // 200 changed pages: an allowance of 80
  // A pack mostly dead: 100 stored, 20 live.
  const RebasePlan plan = PlanRebase(regions, {Pack(100, 0, 20)}, Limits(500));
  EXPECT_LE(plan.spent, 80u);
  EXPECT_TRUE(plan.drop[0]);  // 80 dead pages gone for 20 uploaded
  EXPECT_TRUE(plan.forced.empty());
}

TEST(RebasePlan, OverTheLimitItFoldsBeyondTheAllowanceAndSaysWhy) {
  auto regions = Regions(20);
  for (auto& r : regions) Change(r, 2);
  regions[5].packed_in_base = 200;  // region 5 is mostly overridden by an old pack
  const RebasePlan plan = PlanRebase(regions, {Pack(210, 5, 200)}, Limits(100));
  EXPECT_LE(plan.waste, 100u);
  EXPECT_FALSE(plan.forced.empty());
  EXPECT_NE(plan.forced.find("100 unused pages"), std::string::npos) << plan.forced;
  EXPECT_TRUE(plan.rebase[5]);
  EXPECT_TRUE(plan.drop[0]);  // every page it gave now comes from the new base chunk
}

TEST(RebasePlan, TooManyPacksDropsTheCheapest) {
  auto regions = Regions(40);
  std::vector<PackCounts> packs;
  for (uint64_t q = 0; q < 34; ++q) packs.push_back(Pack(50, q, q == 9 ? 1 : 40));
  Change(regions[39], 3);
  PlanLimits limits = Limits(100000);
  const RebasePlan plan = PlanRebase(regions, packs, limits);
  EXPECT_LE(plan.packs_after, 32u);
  EXPECT_TRUE(plan.drop[9]);
  EXPECT_FALSE(plan.forced.empty());
  EXPECT_NE(plan.forced.find("packs"), std::string::npos);
}

TEST(RebasePlan, WhatTheLocationLostIsWrittenAgain) {
  auto regions = Regions(3);
  regions[2].base_missing = true;
  PackCounts lost = Pack(10, 0, 10);
  lost.missing = true;
  const RebasePlan plan = PlanRebase(regions, {lost}, Limits(1000));
  EXPECT_TRUE(plan.rebase[2]);
  EXPECT_TRUE(plan.drop[0]);
  EXPECT_EQ(plan.new_pack_pages, 10u);  // the lost pack's pages, from the snapshot
}

TEST(RebasePlan, ShrinkCountsTheBasePagesPastTheEndAsWaste) {
  std::vector<RegionCounts> regions = {{256, 256, false, 0, 0, 0}, {40, 256, false, 0, 0, 0}};
  const RebasePlan plan = PlanRebase(regions, {}, Limits(1000));
  EXPECT_EQ(plan.waste, 216u);
}

}  // namespace
}  // namespace chatvault::backup
