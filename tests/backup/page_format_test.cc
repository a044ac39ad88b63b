// The database's page objects and their description in the manifest: round trips, and the
// malformed forms a reader must refuse.
#include <gtest/gtest.h>

#include <filesystem>

#include "backup/manifest.h"
#include "backup/page_hash.h"
#include "backup/page_map.h"
#include "backup/page_pack.h"
#include "support/chat_dir.h"
#include "support/status_matchers.h"
#include "support/temp_dir.h"

namespace chatvault::backup {
namespace {

using chatvault::testing::IsOk;

const std::string kId(64, 'a');

TEST(PageGaps, RoundTripAndRefuseRepeats) {
  const std::vector<uint32_t> pages = {0, 1, 2, 3, 90, 4000000000u};
  const auto gaps = ToGaps(pages);
  EXPECT_EQ(gaps, (std::vector<uint64_t>{0, 1, 1, 1, 87, 3999999910u}));
  EXPECT_EQ(*FromGaps(gaps), pages);
  EXPECT_EQ(FromGaps({5, 0}).status().code(), Code::kCorrupted);
  EXPECT_EQ(FromGaps({4294967295u, 1}).status().code(), Code::kCorrupted);
}

// A database of 600 pages of 4 KiB: regions 0 and 1 full (256 pages), region 2 of 88 pages.
struct Paged {
  PageMap map{4096, 600, std::string(64, 'd'), {}};
  std::vector<ChunkRef> base = {{kId, 1 << 20}, {kId, 1 << 20}, {kId, 88 * 4096}};
  Status Check() const { return CheckPageMap(map, base, 600 * 4096); }
};

TEST(PageMapCheck, EveryPageNeedsExactlyOneSource) {
  Paged p;
  EXPECT_THAT(p.Check(), IsOk());
  p.map.packs.push_back({kId, 0, 3, {5, 300, 599}});
  EXPECT_THAT(p.Check(), IsOk());
  p.map.packs.push_back({kId, 0, 1, {300}});
  EXPECT_NE(p.Check().message().find("two packs list the same page"), std::string::npos);
  p.map.packs.pop_back();
  // Region 2's base chunk holds 40 pages: pages 553..600 (SQLite numbering) must come from packs.
  p.base[2].size = 40 * 4096;
  EXPECT_NE(p.Check().message().find("page 553 of the database has no copy"), std::string::npos)
      << p.Check().ToString();
  p.map.packs.back().live = {5, 300};
  for (uint32_t page = 552; page < 600; ++page) p.map.packs.back().live.push_back(page);
  p.map.packs.back().stored = static_cast<uint32_t>(p.map.packs.back().live.size());
  EXPECT_THAT(p.Check(), IsOk());
  // A region without a base chunk at all, every page in packs.
  p.base[2] = {};
  EXPECT_FALSE(p.Check().ok());
}

TEST(PageMapCheck, RefusesSizesThatDoNotAddUp) {
  Paged p;
  p.base[1].size = 1000;
  EXPECT_NE(p.Check().message().find("not whole pages"), std::string::npos);
  p = Paged();
  p.map.packs.push_back({kId, 0, 1, {1, 2}});
  EXPECT_NE(p.Check().message().find("more pages than it holds"), std::string::npos);
  p.map.packs.back() = {kId, 0, 1, {600}};
  EXPECT_NE(p.Check().message().find("beyond the end"), std::string::npos);
  p = Paged();
  p.map.page_size = 3000;
  EXPECT_FALSE(p.Check().ok());
  p = Paged();
  EXPECT_FALSE(CheckPageMap(p.map, p.base, 600 * 4096 + 1).ok());
  p.base.push_back({kId, 4096});
  EXPECT_NE(p.Check().message().find("beyond its end"), std::string::npos);
}

Manifest PagedManifest() {
  Paged p;
  p.map.packs.push_back({std::string(64, 'b'), PackPlaintextSize(2, 4096), 2, {7, 8}});
  Manifest m;
  m.sequence = 3;
  FileEntry db{"msgstore.db", 600 * 4096, 0600, 1, p.base, p.map};
  db.chunks[1] = {};  // region 1 has no base chunk: its pages come from packs
  for (uint32_t page = 256; page < 512; ++page) db.pages->packs[0].live.push_back(page);
  db.pages->packs[0].stored = static_cast<uint32_t>(db.pages->packs[0].live.size());
  m.files.push_back(db);
  m.files.push_back({"Media/a.jpg", 4, 0644, 2, {{std::string(64, 'c'), 4}}, {}});
  return m;
}

TEST(PagedManifest, RoundTripsAsVersion2) {
  const Manifest m = PagedManifest();
  const Bytes bytes = SerializeManifest(m);
  EXPECT_NE(AsChars(bytes).find("\"version\":2"), std::string_view::npos);
  auto parsed = ParseManifest(bytes);
  ASSERT_THAT(parsed, IsOk());
  const FileEntry& db = parsed->files[0];
  ASSERT_TRUE(db.pages.has_value());
  EXPECT_EQ(db.pages->page_count, 600u);
  EXPECT_TRUE(db.chunks[1].id.empty());
  EXPECT_EQ(db.pages->packs[0].live, m.files[0].pages->packs[0].live);
  EXPECT_FALSE(parsed->files[1].pages.has_value());
  EXPECT_EQ(parsed->ChunkCount(), 2u);  // two distinct ids; the empty region counts for nothing
  // Without a page map it stays version 1, which older readers know.
  Manifest plain = m;
  plain.files.erase(plain.files.begin());
  EXPECT_NE(AsChars(SerializeManifest(plain)).find("\"version\":1"), std::string_view::npos);
}

TEST(PagedManifest, RefusesPageMapsWhereTheyDoNotBelong) {
  Manifest m = PagedManifest();
  m.files[1].pages = m.files[0].pages;  // media are never paged
  EXPECT_EQ(ParseManifest(SerializeManifest(m)).status().code(), Code::kCorrupted);
  m = PagedManifest();
  m.files[0].pages->packs[0].live.pop_back();  // page 512 has no source
  auto parsed = ParseManifest(SerializeManifest(m));
  EXPECT_EQ(parsed.status().code(), Code::kCorrupted);
  EXPECT_NE(parsed.status().message().find("msgstore.db"), std::string::npos);
  std::string text(AsChars(SerializeManifest(PagedManifest())));
  text.replace(text.find("\"version\":2"), 11, "\"version\":3");
  EXPECT_EQ(ParseManifest(AsBytes(text)).status().code(), Code::kUnsupported);
}

TEST(Pack, RoundTripsAndRefusesMalformedPacks) {
  const std::vector<uint32_t> pages = {3, 9};
  Bytes plain;
  BeginPack(pages, 512, plain);
  Append(plain, chatvault::testing::PseudoRandom(1024, 1));
  ASSERT_EQ(plain.size(), PackPlaintextSize(2, 512));
  auto view = ParsePack(plain, 512);
  ASSERT_THAT(view, IsOk());
  EXPECT_EQ(view->pages, pages);
  EXPECT_EQ(view->Page(1)[0], plain[plain.size() - 512]);
  EXPECT_EQ(ParsePack(plain, 1024).status().code(), Code::kCorrupted);
  Bytes cut(plain.begin(), plain.end() - 1);
  EXPECT_EQ(ParsePack(cut, 512).status().code(), Code::kCorrupted);
  Bytes reordered;
  BeginPack({9, 3}, 512, reordered);
  Append(reordered, chatvault::testing::PseudoRandom(1024, 1));
  EXPECT_NE(ParsePack(reordered, 512).status().message().find("out of order"), std::string::npos);
}

TEST(PageHashes, ListsRoundTrip) {
  PageHashList base{{}, Bytes(3 * kPageHashSize, 1)};
  PageHashList pack{{4, 8}, Bytes(2 * kPageHashSize, 2)};
  for (const PageHashList& list : {base, pack}) {
    auto back = DecodePageHashList(EncodePageHashList(list));
    ASSERT_THAT(back, IsOk());
    EXPECT_EQ(back->pages, list.pages);
    EXPECT_EQ(back->hashes, list.hashes);
  }
  Bytes bad = EncodePageHashList(pack);
  bad.pop_back();
  EXPECT_EQ(DecodePageHashList(bad).status().code(), Code::kCorrupted);
}

TEST(PageHashes, KeyedAndPerPage) {
  const auto a = key::BackupKey::Generate();
  const auto b = key::BackupKey::Generate();
  const Bytes pages = chatvault::testing::PseudoRandom(3 * 4096, 2);
  const Bytes ha = PageHasher(a).Hash(pages, 4096);
  ASSERT_EQ(ha.size(), 3 * kPageHashSize);
  EXPECT_NE(ha, PageHasher(b).Hash(pages, 4096));
  // The same page gives the same hash wherever it is.
  EXPECT_EQ(Bytes(ha.begin() + 16, ha.begin() + 32),
            PageHasher(a).Hash(ByteView(pages).subspan(4096, 4096), 4096));
}

TEST(PageHashFile, WritesReadsAndDigests) {
  chatvault::testing::TempDir dir;
  const std::string path = dir.Sub("hashes");
  {
    auto file = PageHashFile::Create(path, 4096, 5000);
    ASSERT_THAT(file, IsOk());
    for (int i = 0; i < 5000; ++i) ASSERT_TRUE(file->Append(Bytes(kPageHashSize, i % 251)).ok());
    ASSERT_THAT(file->Flush(), IsOk());
    ASSERT_THAT(file->WriteAt(7, Bytes(kPageHashSize, 0xee)), IsOk());
  }
  auto file = PageHashFile::Open(path);
  ASSERT_THAT(file, IsOk());
  EXPECT_EQ(file->page_count(), 5000u);
  Bytes first(10 * kPageHashSize);
  ASSERT_THAT(file->ReadNext(10, first.data()), IsOk());
  EXPECT_EQ(first[6 * kPageHashSize], 6);
  EXPECT_EQ(first[7 * kPageHashSize], 0xee);
  Bytes one(kPageHashSize);
  ASSERT_THAT(file->ReadAt(4999, 1, one.data()), IsOk());
  EXPECT_EQ(one[0], 4999 % 251);
  EXPECT_EQ(file->ReadAt(5000, 1, one.data()).code(), Code::kInternal);
  auto digest = file->Digest();
  ASSERT_THAT(digest, IsOk());
  EXPECT_EQ(digest->size(), 64u);
  // A file cut short is not a page hash file any more.
  std::filesystem::resize_file(path, std::filesystem::file_size(path) - 1);
  EXPECT_EQ(PageHashFile::Open(path).status().code(), Code::kCorrupted);
  EXPECT_EQ(PageHashFile::Open(dir.Sub("none")).status().code(), Code::kNotFound);
}

}  // namespace
}  // namespace chatvault::backup
