// The database backed up page by page (docs/BACKUP.md, "The database, page by page"): what each
// kind of change uploads, and that every restore gives back the snapshot byte for byte.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "backup/catalog.h"
#include "backup/database_backup.h"
#include "backup/engine_fixture.h"
#include "backup/page_objects.h"
#include "backup/page_pack.h"
#include "support/status_matchers.h"

namespace chatvault::backup {
namespace {

namespace fs = std::filesystem;
using chatvault::testing::AddMessages;
using chatvault::testing::DatabaseCopy;
using chatvault::testing::Exec;
using chatvault::testing::IsOk;
using chatvault::testing::ReadFile;
using chatvault::testing::WriteFile;

class PageBackup : public BackupEngine {
 protected:
  std::string Db() const { return data_ + "/msgstore.db"; }
  void Sql(const std::string& sql) { ASSERT_TRUE(Exec(Db(), sql)) << sql; }
  // What a restore must give back: the database as the engine's snapshot copies it.
  std::vector<uint8_t> Expected() { return DatabaseCopy(Db(), dir_.Sub("expected.db")); }

  BackupSummary MustBackup() {
    auto summary = Backup();
    EXPECT_THAT(summary, IsOk());
    return summary.ok() ? *summary : BackupSummary{};
  }

  // Restores backup `sequence` (0: the newest) and compares its msgstore.db byte for byte.
  void ExpectRestores(const std::vector<uint8_t>& expected, uint64_t sequence = 0) {
    RestoreOptions options;
    options.sequence = sequence;
    const std::string out = RestoreAs("restored" + std::to_string(restores_++), options);
    ASSERT_FALSE(out.empty());
    EXPECT_TRUE(ReadFile(out + "/msgstore.db") == expected)
        << "the restored database differs from the snapshot (backup " << sequence << ")";
    EXPECT_THAT(RunVerify(*provider_, key_, {}), IsOk());
  }

  // Paths of the pack objects at the location.
  std::vector<std::string> PackPaths() {
    std::vector<std::string> out;
    for (const auto& name : ObjectNames("packs/")) out.push_back(store_ + "/" + name);
    return out;
  }

  int restores_ = 0;
};

TEST_F(PageBackup, FirstBackupIsAFreshBaseOfWholeRegions) {
  const BackupSummary first = MustBackup();
  ASSERT_TRUE(first.database.paged);
  EXPECT_EQ(first.database.page_size, 4096u);
  EXPECT_EQ(first.database.pages_changed, first.database.pages);
  EXPECT_TRUE(first.database.compared_with.starts_with("fresh base"))
      << first.database.compared_with;
  EXPECT_EQ(first.database.packs, 0u);
  // One base chunk per MiB region, each with its page hash list beside it.
  const uint64_t regions = (first.database.pages + 255) / 256;
  EXPECT_EQ(first.database.chunks_written, regions);
  EXPECT_EQ(ObjectNames("pagehashes/").size(), regions);
  ExpectRestores(Expected());
}

TEST_F(PageBackup, AChangedPageGoesIntoAPack) {
  MustBackup();
  Sql("UPDATE messages SET body = 'edited' WHERE id = 1500");
  const BackupSummary second = MustBackup();
  EXPECT_EQ(second.database.compared_with, "location");  // no cache in this fixture
  // The row's page and the header page (SQLite's change counter).
  EXPECT_GE(second.database.pages_changed, 1u);
  EXPECT_LE(second.database.pages_changed, 3u);
  EXPECT_EQ(second.database.packs_written, 1u);
  EXPECT_EQ(second.database.chunks_written, 0u);
  EXPECT_EQ(second.new_chunks, 0u);
  EXPECT_LT(second.bytes_uploaded, 16u * 1024);  // a few pages, not a 1 MiB chunk
  ExpectRestores(Expected());
  // Nothing changed: nothing uploaded, the pack stays listed.
  const BackupSummary third = MustBackup();
  EXPECT_EQ(third.database.pages_changed, 0u);
  EXPECT_EQ(third.bytes_uploaded, 0u);
  EXPECT_EQ(third.database.packs, 1u);
  ExpectRestores(Expected());
}

TEST_F(PageBackup, GrowthFillsNewRegionsAsBaseChunksAndTheRestIntoAPack) {
  const BackupSummary first = MustBackup();
  ASSERT_TRUE(AddMessages(Db(), 9000));  // about 1.6 MiB of new pages
  const BackupSummary second = MustBackup();
  EXPECT_GT(second.database.pages, first.database.pages + 256);
  // A region made only of new pages is uploaded as a base chunk right away: it costs the same
  // as packing it and leaves nothing to fold later.
  EXPECT_GE(second.database.chunks_written, 1u);
  EXPECT_EQ(second.database.packs_written, 1u);
  EXPECT_LT(second.database.pages_packed, 256u);
  ExpectRestores(Expected());
}

TEST_F(PageBackup, RemovedPagesAtTheEndAreNotRestored) {
  // Incremental auto-vacuum gives pages back by truncating the file, without rewriting the rest.
  for (const char* side : {"", "-wal", "-shm"}) fs::remove(Db() + side);
  Sql("PRAGMA auto_vacuum = INCREMENTAL; PRAGMA journal_mode = WAL; CREATE TABLE messages(id "
      "INTEGER PRIMARY KEY, body TEXT NOT NULL, ts INTEGER NOT NULL);");
  ASSERT_TRUE(AddMessages(Db(), 12000));
  const BackupSummary first = MustBackup();
  Sql("DELETE FROM messages WHERE id > 7000; PRAGMA incremental_vacuum;");
  const std::vector<uint8_t> expected = Expected();
  ASSERT_LT(expected.size(), first.database.pages * 4096);
  const BackupSummary second = MustBackup();
  EXPECT_EQ(second.database.pages * 4096, expected.size());
  EXPECT_LT(second.database.pages_changed, second.database.pages / 2);
  ExpectRestores(expected);
  // It grows again into the regions it left.
  ASSERT_TRUE(AddMessages(Db(), 4000));
  MustBackup();
  ExpectRestores(Expected());
}

TEST_F(PageBackup, VacuumRewritesTheBaseAndDropsEveryPack) {
  ASSERT_TRUE(AddMessages(Db(), 6000));
  MustBackup();
  Sql("DELETE FROM messages WHERE id BETWEEN 200 AND 260");
  const BackupSummary packed = MustBackup();
  EXPECT_GE(packed.database.packs, 1u);
  Sql("VACUUM");
  const BackupSummary vacuumed = MustBackup();
  EXPECT_LT(vacuumed.database.pages, packed.database.pages);
  EXPECT_EQ(vacuumed.database.packs, 0u);
  EXPECT_GE(vacuumed.database.chunks_written, 1u);
  ExpectRestores(Expected());
  // Once the older backups are no longer kept, their packs go.
  options_.keep = 1;
  MustBackup();
  EXPECT_TRUE(ObjectNames("packs/").empty());
  ExpectRestores(Expected());
}

TEST_F(PageBackup, AChangedPageSizeStartsAFreshBase) {
  MustBackup();
  Sql("PRAGMA journal_mode = DELETE; PRAGMA page_size = 8192; VACUUM;");
  const BackupSummary second = MustBackup();
  EXPECT_EQ(second.database.page_size, 8192u);
  EXPECT_EQ(second.database.compared_with, "fresh base: the page size changed from 4096 to 8192");
  EXPECT_EQ(second.database.packs, 0u);
  ExpectRestores(Expected());
  Sql("UPDATE messages SET body = 'again' WHERE id = 10");
  const BackupSummary third = MustBackup();
  EXPECT_EQ(third.database.packs_written, 1u);
  ExpectRestores(Expected());
}

TEST_F(PageBackup, EveryPageSizeSQLiteAllows) {
  for (uint32_t page_size = 512; page_size <= 65536; page_size *= 2) {
    SCOPED_TRACE(page_size);
    const std::string data = dir_.Sub("data" + std::to_string(page_size));
    const std::string db = data + "/msgstore.db";
    fs::create_directories(data);
    ASSERT_TRUE(Exec(db, "PRAGMA page_size = " + std::to_string(page_size) +
                             "; PRAGMA journal_mode = WAL; CREATE TABLE messages(id INTEGER "
                             "PRIMARY KEY, body TEXT NOT NULL, ts INTEGER NOT NULL);"));
    ASSERT_TRUE(AddMessages(db, 3000));
    auto provider = storage::OpenLocalProvider(dir_.Sub("store" + std::to_string(page_size)));
    auto first = RunBackup(data, *provider, key_, options_);
    ASSERT_THAT(first, IsOk());
    EXPECT_EQ(first->database.page_size, page_size);
    ASSERT_TRUE(Exec(db, "UPDATE messages SET body = 'x' WHERE id % 500 = 7"));
    ASSERT_TRUE(AddMessages(db, 100));
    auto second = RunBackup(data, *provider, key_, options_);
    ASSERT_THAT(second, IsOk());
    EXPECT_LT(second->database.pages_changed, second->database.pages);
    // With large pages this small database is one region, which the change may fill entirely.
    if (page_size <= 8192) {
      EXPECT_EQ(second->database.packs, 1u);
    }
    const std::string out = dir_.Sub("out" + std::to_string(page_size));
    ASSERT_THAT(RunRestore(*provider, key_, out, {}), IsOk());
    EXPECT_TRUE(ReadFile(out + "/msgstore.db") == DatabaseCopy(db, dir_.Sub("copy.db")));
  }
}

// A backup written before page maps existed holds the database as whole 1 MiB chunks, the same
// ids a fresh base gives its regions: the first page-by-page backup after the upgrade uploads no
// chunk again, only the page hash lists.
TEST_F(PageBackup, AnUpgradeFromWholeChunksUploadsOnlyThePageHashes) {
  MustBackup();
  auto survey = SurveyLocation(*provider_, key_);
  ASSERT_THAT(survey, IsOk());
  auto manifest = LoadManifest(*provider_, key_, *survey->NewestOurs());
  ASSERT_THAT(manifest, IsOk());
  Manifest old_style = *manifest;
  old_style.files[0].pages.reset();  // version 1: the chunks are the file
  old_style.sequence += 1;
  ASSERT_THAT(CommitBackup(*provider_, key_, old_style), IsOk());
  for (const auto& name : ObjectNames("pagehashes/")) fs::remove(store_ + "/" + name);
  ExpectRestores(Expected());  // the old form restores as it always did

  const BackupSummary upgraded = MustBackup();
  EXPECT_EQ(upgraded.database.compared_with, "fresh base: there is no earlier page-by-page backup");
  EXPECT_EQ(upgraded.new_chunks, 0u);
  EXPECT_EQ(ObjectNames("pagehashes/").size(), old_style.files[0].chunks.size());
  EXPECT_LT(upgraded.bytes_uploaded, 8u * 1024 * old_style.files[0].chunks.size());
  Sql("UPDATE messages SET body = 'after the upgrade' WHERE id = 77");
  EXPECT_EQ(MustBackup().database.packs_written, 1u);
  ExpectRestores(Expected());
}

// The device's cache of page hashes saves reading anything back; without it (a new phone, a lost
// or stale cache) the page hash lists at the location give the same answer.
TEST_F(PageBackup, ALostOrStaleCacheFallsBackToTheLocation) {
  const std::string cache_dir = dir_.Sub("cache");
  fs::create_directories(cache_dir);
  options_.cache_dir = cache_dir;
  const std::string cache = PageCachePath(cache_dir);
  int round = 0;
  auto change = [&] {
    ++round;
    Sql("UPDATE messages SET body = 'round " + std::to_string(round) +
        "' WHERE id % 400 = " + std::to_string(round));
  };
  MustBackup();
  ASSERT_TRUE(fs::exists(cache));

  change();
  const BackupSummary cached = MustBackup();
  EXPECT_EQ(cached.database.compared_with, "cache");
  ExpectRestores(Expected());

  fs::remove(cache);  // lost
  change();
  const BackupSummary lost = MustBackup();
  EXPECT_EQ(lost.database.compared_with, "location");
  EXPECT_EQ(lost.database.pages_changed, cached.database.pages_changed);
  ExpectRestores(Expected());

  const std::vector<uint8_t> stale = ReadFile(cache);
  change();
  MustBackup();
  WriteFile(cache, stale);  // describes the backup before
  change();
  const BackupSummary after_stale = MustBackup();
  EXPECT_EQ(after_stale.database.compared_with, "location");
  EXPECT_EQ(after_stale.database.pages_changed, cached.database.pages_changed);
  ExpectRestores(Expected());

  std::vector<uint8_t> damaged = ReadFile(cache);
  damaged[damaged.size() - 3] ^= 1;  // one page's hash
  WriteFile(cache, damaged);
  change();
  EXPECT_EQ(MustBackup().database.compared_with, "location");
  ExpectRestores(Expected());

  // Without the page hash lists too, the base chunks and packs themselves are read.
  for (const auto& name : ObjectNames("pagehashes/")) fs::remove(store_ + "/" + name);
  fs::remove(cache);
  change();
  const BackupSummary bare = MustBackup();
  EXPECT_EQ(bare.database.compared_with, "location");
  EXPECT_EQ(bare.database.pages_changed, cached.database.pages_changed);
  ExpectRestores(Expected());
  // No scratch file is left beside the cache.
  for (const auto& e : fs::directory_iterator(cache_dir)) {
    EXPECT_EQ(e.path().filename(), "database-pages");
  }
}

// Page hash lists that are authentic but wrong (a faulty writer) do not match the backup's page
// digest: the backup writes a fresh base instead of trusting them.
TEST_F(PageBackup, PageHashesThatDoNotMatchTheBackupMakeAFreshBase) {
  MustBackup();
  auto names = ObjectNames("pagehashes/");
  ASSERT_FALSE(names.empty());
  const std::string id = fs::path(names[0]).filename().string();
  const PageObjectCodec codec(key_);
  auto plain = codec.LoadPageHashes(*provider_, id);
  ASSERT_THAT(plain, IsOk());
  auto wrong = DecodePageHashList(*plain);
  ASSERT_THAT(wrong, IsOk());
  wrong->hashes[5] ^= 1;
  fs::remove(store_ + "/" + names[0]);
  ASSERT_THAT(codec.StorePageHashes(*provider_, id, EncodePageHashList(*wrong)), IsOk());
  Sql("UPDATE messages SET body = 'x' WHERE id = 3");
  const BackupSummary next = MustBackup();
  EXPECT_EQ(next.database.compared_with,
            "fresh base: the page hashes at the location do not match the current backup");
  ExpectRestores(Expected());
}

// Backups with a pack each, so that the current one lists two; and the pack of an older backup
// that is no longer at the location, as someone who copied it would have it.
class TwoPacks : public PageBackup {
 protected:
  void SetUp() override {
    PageBackup::SetUp();
    MustBackup();
    Sql("UPDATE messages SET body = 'first' WHERE id BETWEEN 100 AND 110");
    MustBackup();
    old_pack_ = ReadFile(PackPaths().at(0));
    Sql("UPDATE messages SET body = 'again' WHERE id BETWEEN 100 AND 110");
    MustBackup();  // supersedes every page of that pack
    Sql("UPDATE messages SET body = 'second' WHERE id BETWEEN 2800 AND 2900");
    ASSERT_EQ(MustBackup().database.packs, 2u);
    ASSERT_EQ(PackPaths().size(), 2u);  // the older pack went with the backup that listed it
    for (const auto& path : PackPaths()) ASSERT_NE(ReadFile(path), old_pack_);
  }
  Status RestoreStatus() { return RunRestore(*provider_, key_, dir_.Sub("out"), {}).status(); }
  std::vector<uint8_t> old_pack_;
};

TEST_F(TwoPacks, PacksSwappedBetweenNamesAreDetected) {
  const auto paths = PackPaths();
  const auto a = ReadFile(paths[0]);
  const auto b = ReadFile(paths[1]);
  WriteFile(paths[0], b);
  WriteFile(paths[1], a);
  const Status s = RestoreStatus();
  EXPECT_EQ(s.code(), Code::kCorrupted);
  EXPECT_NE(s.message().find("swapped"), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("msgstore.db"), std::string::npos) << s.ToString();
  EXPECT_EQ(RunVerify(*provider_, key_, {}).status().code(), Code::kCorrupted);
  EXPECT_FALSE(fs::exists(dir_.Sub("out")));
}

TEST_F(TwoPacks, APackOfAnotherBackupIsDetected) {
  // Authentic under this key, but another backup's: put in the place of one the manifest names.
  WriteFile(PackPaths()[0], old_pack_);
  const Status s = RestoreStatus();
  EXPECT_EQ(s.code(), Code::kCorrupted) << s.ToString();
  EXPECT_NE(s.message().find("swapped"), std::string::npos) << s.ToString();
}

TEST_F(TwoPacks, ADeletedPackIsReportedAndTheNextBackupWritesItsPagesAgain) {
  fs::remove(PackPaths()[1]);
  const Status s = RestoreStatus();
  EXPECT_EQ(s.code(), Code::kCorrupted);
  EXPECT_NE(s.message().find("missing"), std::string::npos) << s.ToString();
  const BackupSummary repaired = MustBackup();
  EXPECT_GE(repaired.database.packs_written, 1u);
  ExpectRestores(Expected());
}

// A manifest that takes pages from the wrong place (only a faulty writer holding the key can make
// one) never restores: the pack must hold each page listed for it, and what was written must
// give the page digest the backup recorded.
class ForgedBackup : public TwoPacks {
 protected:
  Manifest Current() {
    auto survey = SurveyLocation(*provider_, key_);
    EXPECT_THAT(survey, IsOk());
    auto manifest = LoadManifest(*provider_, key_, *survey->NewestOurs());
    EXPECT_THAT(manifest, IsOk());
    return *manifest;
  }
  void Commit(Manifest m) {
    m.sequence += 1;
    ASSERT_THAT(CommitBackup(*provider_, key_, m), IsOk());
  }
};

TEST_F(ForgedBackup, APageThePackDoesNotHold) {
  Manifest m = Current();
  PageMap& map = *m.files[0].pages;
  // Page 51 comes from its base chunk; claim the first pack holds it instead of one it holds.
  auto& live = map.packs[0].live;
  ASSERT_FALSE(std::binary_search(live.begin(), live.end(), 50u));
  ASSERT_LT(live.back(), 256u);  // the page it no longer gives comes from its base chunk
  live.erase(live.begin());
  live.insert(std::upper_bound(live.begin(), live.end(), 50u), 50u);
  Commit(m);
  const Status s = RestoreStatus();
  EXPECT_EQ(s.code(), Code::kCorrupted);
  EXPECT_NE(s.message().find("does not hold page 51"), std::string::npos) << s.ToString();
}

TEST_F(ForgedBackup, PagesAtTheWrongOffsets) {
  Manifest m = Current();
  PackRef& pack = m.files[0].pages->packs[1];
  ASSERT_GE(pack.live.size(), 2u);
  const PageObjectCodec codec(key_);
  auto plain = codec.LoadPack(*provider_, pack.id, pack.size);
  ASSERT_THAT(plain, IsOk());
  auto view = ParsePack(*plain, 4096);
  ASSERT_THAT(view, IsOk());
  // Two pages trade contents; the page numbers stay.
  const size_t a = static_cast<size_t>(
      std::find(view->pages.begin(), view->pages.end(), pack.live[0]) - view->pages.begin());
  const size_t b = static_cast<size_t>(
      std::find(view->pages.begin(), view->pages.end(), pack.live[1]) - view->pages.begin());
  Bytes swapped = *plain;
  const size_t data_start = plain->size() - view->data.size();
  std::swap_ranges(swapped.begin() + static_cast<ptrdiff_t>(data_start + a * 4096),
                   swapped.begin() + static_cast<ptrdiff_t>(data_start + (a + 1) * 4096),
                   swapped.begin() + static_cast<ptrdiff_t>(data_start + b * 4096));
  pack.id = codec.PackIdOf(swapped);
  ASSERT_THAT(codec.StorePack(*provider_, pack.id, swapped), IsOk());
  Commit(m);
  const Status s = RestoreStatus();
  EXPECT_EQ(s.code(), Code::kCorrupted);
  EXPECT_NE(s.message().find("page digest"), std::string::npos) << s.ToString();
  EXPECT_EQ(RunVerify(*provider_, key_, {}).status().code(), Code::kCorrupted);
}

// One page changes places with a page of another pack, each keeping its page number: both packs
// are authentic objects of this key, re-stored and listed by a manifest a key holder forged, so
// only the page digest can notice.
TEST_F(ForgedBackup, APageSwappedBetweenTwoPacks) {
  Manifest m = Current();
  std::vector<PackRef>& packs = m.files[0].pages->packs;
  ASSERT_EQ(packs.size(), 2u);
  const PageObjectCodec codec(key_);
  std::vector<Bytes> plains;
  std::vector<size_t> slots;  // where each pack keeps the first page restore takes from it
  for (const PackRef& pack : packs) {
    auto plain = codec.LoadPack(*provider_, pack.id, pack.size);
    ASSERT_THAT(plain, IsOk());
    auto view = ParsePack(*plain, 4096);
    ASSERT_THAT(view, IsOk());
    const auto at = std::find(view->pages.begin(), view->pages.end(), pack.live.front());
    ASSERT_NE(at, view->pages.end());
    slots.push_back(plain->size() - view->data.size() +
                    static_cast<size_t>(at - view->pages.begin()) * 4096);
    plains.push_back(*plain);
  }
  ASSERT_NE(packs[0].live.front(), packs[1].live.front());
  std::swap_ranges(plains[0].begin() + static_cast<ptrdiff_t>(slots[0]),
                   plains[0].begin() + static_cast<ptrdiff_t>(slots[0] + 4096),
                   plains[1].begin() + static_cast<ptrdiff_t>(slots[1]));
  ASSERT_NE(plains[0], codec.LoadPack(*provider_, packs[0].id, packs[0].size).value());
  for (size_t q = 0; q < 2; ++q) {
    packs[q].id = codec.PackIdOf(plains[q]);
    ASSERT_THAT(codec.StorePack(*provider_, packs[q].id, plains[q]), IsOk());
  }
  Commit(m);
  const Status s = RestoreStatus();
  EXPECT_EQ(s.code(), Code::kCorrupted);
  EXPECT_NE(s.message().find("page digest"), std::string::npos) << s.ToString();
  EXPECT_EQ(RunVerify(*provider_, key_, {}).status().code(), Code::kCorrupted);
  EXPECT_FALSE(fs::exists(dir_.Sub("out")));
}

// Many days of random use of a database alone (no media, so the bound on what a restore reads is
// as tight as it gets and folding happens often): every backup restores byte for byte, the
// previous (kept) one too, and the invariants hold every day.
TEST_F(PageBackup, ManyDaysOfRandomChangesRestoreByteForByte) {
  fs::remove_all(data_ + "/Media");
  const std::string cache_dir = dir_.Sub("cache");
  fs::create_directories(cache_dir);
  options_.cache_dir = cache_dir;
  ASSERT_TRUE(AddMessages(Db(), 5000));
  std::mt19937 rng(12);
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  MustBackup();
  std::vector<uint8_t> previous = Expected();
  bool forced = false;
  for (int day = 1; day <= 40; ++day) {
    SCOPED_TRACE("day " + std::to_string(day));
    ASSERT_TRUE(AddMessages(Db(), pick(0, 400)));
    Sql("UPDATE messages SET body = body || '!' WHERE id IN (SELECT id FROM messages ORDER BY "
        "random() LIMIT " +
        std::to_string(pick(0, 150)) + ")");
    Sql("DELETE FROM messages WHERE id IN (SELECT id FROM messages ORDER BY random() LIMIT " +
        std::to_string(pick(0, 60)) + ")");
    if (day % 17 == 0) Sql("VACUUM");
    if (day % 7 == 3) fs::remove(PageCachePath(cache_dir));
    const BackupSummary s = MustBackup();
    ASSERT_TRUE(s.database.paged);
    EXPECT_LE(s.database.packs, 32u);
    EXPECT_LE(s.database.unused_pages, s.database.pages / 5 + 1);
    forced = forced || !s.database.forced.empty();
    const std::vector<uint8_t> expected = Expected();
    if (day % 5 == 0 || day == 40) {
      ExpectRestores(expected);
      ExpectRestores(previous, s.sequence - 1);
    }
    previous = expected;
  }
  EXPECT_TRUE(forced) << "the soak never reached the bound it is meant to exercise";
}

}  // namespace
}  // namespace chatvault::backup
