#include <gtest/gtest.h>
#include <sodium.h>
#include <sqlite3.h>
#include <zstd.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <thread>

#include "chatvault/common/bytes.h"
#include "chatvault/crypto/hash.h"
#include "make_sample_chat/media_file.h"
#include "make_sample_chat/sample_chat.h"
#include "make_sample_chat/sizes.h"
#include "make_sample_chat/sqlite_db.h"

namespace chatvault::sample {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string templ = (fs::temp_directory_path() / "sample-chat-test-XXXXXX").string();
    path_ = mkdtemp(templ.data());
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Every file under dir (relative path -> SHA-256 hex), msgstore.db excluded.
std::map<std::string, std::string> MediaHashes(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    const std::string rel = fs::relative(entry.path(), dir).string();
    if (rel.rfind(kDatabaseName, 0) == 0) continue;
    out[rel] = HexEncode(crypto::Sha256(AsBytes(ReadFile(entry.path()))));
  }
  return out;
}

// All rows of a table as text, for comparing two databases.
std::string DumpTable(const fs::path& dir, const std::string& table) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2((dir / kDatabaseName).c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
            SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  const std::string sql = "SELECT * FROM " + table + " ORDER BY 1";
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
  std::string out;
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    for (int c = 0; c < sqlite3_column_count(stmt); ++c) {
      const auto* bytes = static_cast<const char*>(sqlite3_column_blob(stmt, c));
      out.append(bytes ? std::string(bytes, sqlite3_column_bytes(stmt, c)) : "<null>");
      out += '|';
    }
    out += '\n';
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return out;
}

int64_t QueryInt(const fs::path& dir, const std::string& sql) {
  auto db = Database::Open((dir / kDatabaseName).string(), false);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  auto value = db->QueryInt(sql);
  EXPECT_TRUE(value.ok()) << value.status().ToString();
  return value.ok() ? *value : -1;
}

std::string QueryText(const fs::path& dir, const std::string& sql) {
  auto db = Database::Open((dir / kDatabaseName).string(), false);
  auto stmt = db->Prepare(sql);
  EXPECT_TRUE(stmt.ok());
  auto row = stmt->Step();
  EXPECT_TRUE(row.ok() && *row);
  return stmt->ColumnText(0);
}

// Media files of 4 to 48 KiB keep the stores, and so the tests, small and quick.
constexpr uint64_t kSmallMediaMin = 4 << 10;
constexpr uint64_t kSmallMediaMax = 48 << 10;

GenerateOptions SmallStore(const fs::path& out, uint64_t seed, uint64_t messages = 400,
                           uint64_t media_count = 16) {
  GenerateOptions options;
  options.out = out;
  options.messages = messages;
  options.media_count = media_count;
  options.media_min = kSmallMediaMin;
  options.media_max = kSmallMediaMax;
  options.seed = seed;
  return options;
}

// A change (mutate or day) of the store in `dir` that adds media of the same small sizes.
ChangeOptions SmallChange(const fs::path& dir) {
  ChangeOptions options;
  options.dir = dir;
  options.media_min = kSmallMediaMin;
  options.media_max = kSmallMediaMax;
  return options;
}

double CompressedRatio(const std::string& data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  return static_cast<double>(n) / static_cast<double>(data.size());
}

TEST(SampleChatParseSizeTest, AcceptsSuffixesAndRejectsJunk) {
  EXPECT_EQ(*ParseSize("4096"), 4096u);
  EXPECT_EQ(*ParseSize("50K"), 50u << 10);
  EXPECT_EQ(*ParseSize("5m"), 5u << 20);
  EXPECT_EQ(*ParseSize("1GB"), 1ull << 30);
  EXPECT_EQ(ParseSize("").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseSize("5X").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseSize("-1K").status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ParseSize("99999999999999999999").status().code(), Code::kInvalidArgument);
}

TEST(SampleChatGenerateTest, MakesAConsistentStoreShapedLikeAChatApp) {
  TempDir dir;
  auto summary = Generate(SmallStore(dir.path(), 7));
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->messages, 400u);
  EXPECT_EQ(QueryText(dir.path(), "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(QueryText(dir.path(), "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(QueryInt(dir.path(), "PRAGMA page_size"), 4096);
  EXPECT_EQ(QueryInt(dir.path(), "SELECT count(*) FROM message"), 400);
  EXPECT_EQ(QueryInt(dir.path(), "SELECT count(*) FROM message_media"), 16);
  EXPECT_GE(QueryInt(dir.path(), "SELECT count(*) FROM chat"), 2);
  EXPECT_GT(QueryInt(dir.path(), "SELECT count(DISTINCT length(text_data)) FROM message"), 50);
  // Timestamps only move forward, as messages arrive.
  EXPECT_EQ(QueryInt(dir.path(), "SELECT count(*) FROM message a JOIN message b "
                                 "ON b._id = a._id + 1 WHERE b.timestamp <= a.timestamp"), 0);

  // Every media row points at a file of the recorded size and hash, within the size bounds.
  auto db = Database::Open((dir.path() / kDatabaseName).string(), false);
  ASSERT_TRUE(db.ok());
  auto rows = db->Prepare("SELECT file_path, file_size, file_hash FROM message_media");
  ASSERT_TRUE(rows.ok());
  int files = 0;
  while (*rows->Step()) {
    const fs::path file = dir.path() / rows->ColumnText(0);
    ASSERT_TRUE(fs::exists(file)) << file;
    const std::string content = ReadFile(file);
    EXPECT_EQ(static_cast<int64_t>(content.size()), rows->ColumnInt(1));
    EXPECT_GE(content.size(), kSmallMediaMin);
    EXPECT_LE(content.size(), kSmallMediaMax);
    const Bytes digest = crypto::Sha256(AsBytes(content));
    std::string b64(64, '\0');
    sodium_bin2base64(b64.data(), b64.size(), digest.data(), digest.size(),
                      sodium_base64_VARIANT_ORIGINAL);
    EXPECT_EQ(rows->ColumnText(2), std::string(b64.c_str()));
    EXPECT_EQ(rows->ColumnText(0).rfind("Media/WhatsApp ", 0), 0u);
    ++files;
  }
  EXPECT_EQ(files, 16);
  EXPECT_EQ(MediaHashes(dir.path()).size(), 16u);
}

TEST(SampleChatGenerateTest, SameSeedSameStoreOtherSeedOtherStore) {
  TempDir a, b, c;
  ASSERT_TRUE(Generate(SmallStore(a.path(), 11)).ok());
  ASSERT_TRUE(Generate(SmallStore(b.path(), 11)).ok());
  ASSERT_TRUE(Generate(SmallStore(c.path(), 12)).ok());
  EXPECT_EQ(MediaHashes(a.path()), MediaHashes(b.path()));
  EXPECT_EQ(DumpTable(a.path(), "message"), DumpTable(b.path(), "message"));
  EXPECT_EQ(DumpTable(a.path(), "message_media"), DumpTable(b.path(), "message_media"));
  EXPECT_NE(MediaHashes(a.path()), MediaHashes(c.path()));
  EXPECT_NE(DumpTable(a.path(), "message"), DumpTable(c.path(), "message"));
}

TEST(SampleChatGenerateTest, RefusesToOverwriteAndRejectsBadOptions) {
  TempDir dir;
  ASSERT_TRUE(Generate(SmallStore(dir.path(), 1)).ok());
  EXPECT_EQ(Generate(SmallStore(dir.path(), 1)).status().code(), Code::kAlreadyExists);
  TempDir other;
  GenerateOptions options = SmallStore(other.path(), 1);
  options.media_count = options.messages + 1;
  EXPECT_EQ(Generate(options).status().code(), Code::kInvalidArgument);
  options = SmallStore(other.path(), 1);
  options.media_max = options.media_min - 1;
  EXPECT_EQ(Generate(options).status().code(), Code::kInvalidArgument);
  EXPECT_FALSE(fs::exists(other.path() / kDatabaseName));
}

TEST(SampleChatMediaFileTest, CodecMediaIsIncompressibleDocumentsAreNot) {
  TempDir dir;
  const uint64_t size = 96 << 10;
  struct Case {
    MediaKind kind;
    std::string magic;
  };
  for (const Case& c : {Case{MediaKind::kImage, std::string("\xFF\xD8\xFF", 3)},
                        Case{MediaKind::kVideo, std::string("\0\0\0\x20" "ftyp", 8)},
                        Case{MediaKind::kVoiceNote, std::string("OggS")},
                        Case{MediaKind::kSticker, std::string("RIFF")},
                        Case{MediaKind::kDocument, std::string("%PDF-")}}) {
    const fs::path file = dir.path() / ("f" + std::to_string(static_cast<int>(c.kind)));
    auto digest = WriteMediaFile(file, c.kind, size, 99);
    ASSERT_TRUE(digest.ok()) << digest.status().ToString();
    const std::string content = ReadFile(file);
    ASSERT_EQ(content.size(), size);
    EXPECT_EQ(content.substr(0, c.magic.size()), c.magic);
    EXPECT_EQ(*digest, crypto::Sha256(AsBytes(content)));
    if (c.kind == MediaKind::kDocument) {
      EXPECT_LT(CompressedRatio(content), 0.5);
    } else {
      EXPECT_GT(CompressedRatio(content), 0.99);
    }
    // The content is a function of the seed.
    const fs::path again = file.string() + ".again";
    ASSERT_TRUE(WriteMediaFile(again, c.kind, size, 99).ok());
    EXPECT_EQ(ReadFile(again), content);
  }
}

TEST(SampleChatMutateTest, ChangesAboutThePercentageAndKeepsTheStoreConsistent) {
  TempDir dir;
  ASSERT_TRUE(Generate(SmallStore(dir.path(), 3, /*messages=*/1000, /*media_count=*/40)).ok());
  const auto media_before = MediaHashes(dir.path());
  const std::string messages_before = DumpTable(dir.path(), "message");

  MutateOptions mutate{SmallChange(dir.path())};
  mutate.percent = 10;
  auto summary = Mutate(mutate);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->changed_messages, 50u);
  EXPECT_EQ(summary->inserted_messages, 52u);  // 50 texts + 2 media messages
  EXPECT_EQ(summary->deleted_media, 2u);
  EXPECT_EQ(summary->messages, 1000u + 52u - 2u);
  EXPECT_EQ(summary->media_files, 40u);
  EXPECT_EQ(QueryText(dir.path(), "PRAGMA integrity_check"), "ok");

  const auto media_after = MediaHashes(dir.path());
  EXPECT_EQ(media_after.size(), 40u);
  int kept = 0;
  for (const auto& [path, hash] : media_after) {
    auto it = media_before.find(path);
    if (it != media_before.end()) {
      EXPECT_EQ(it->second, hash) << path;  // existing media never changes in place
      ++kept;
    }
  }
  EXPECT_EQ(kept, 38);
  // Every referenced file exists.
  EXPECT_EQ(QueryInt(dir.path(), "SELECT count(*) FROM message_media"), 40);

  // A second round changes different things.
  const std::string after_first = DumpTable(dir.path(), "message");
  EXPECT_NE(after_first, messages_before);
  ASSERT_TRUE(Mutate(mutate).ok());
  EXPECT_NE(DumpTable(dir.path(), "message"), after_first);
}

TEST(SampleChatMutateTest, NeedsAnExistingStoreAndASanePercentage) {
  TempDir dir;
  MutateOptions mutate;
  mutate.dir = dir.path();
  EXPECT_EQ(Mutate(mutate).status().code(), Code::kNotFound);
  mutate.percent = 0;
  EXPECT_EQ(Mutate(mutate).status().code(), Code::kInvalidArgument);
  mutate.percent = 101;
  EXPECT_EQ(Mutate(mutate).status().code(), Code::kInvalidArgument);
}

TEST(SampleChatDayTest, AddsADayInSmallTransactionsAndEditsAndDeletesOlderMessages) {
  TempDir dir;
  ASSERT_TRUE(Generate(SmallStore(dir.path(), 5, /*messages=*/2000, /*media_count=*/30)).ok());
  DayOptions day{SmallChange(dir.path())};
  day.messages = 200;
  day.media = 3;
  auto summary = Day(day);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->inserted_messages, 200u);
  EXPECT_GE(summary->transactions, 10u);  // 1 to 20 messages each
  EXPECT_EQ(summary->changed_messages, 10u);
  EXPECT_EQ(summary->messages, 2000u + 200u - 4u);
  EXPECT_EQ(QueryText(dir.path(), "PRAGMA integrity_check"), "ok");
  // Every media row has its file, the three new ones included, and nothing else is left.
  EXPECT_EQ(static_cast<size_t>(QueryInt(dir.path(), "SELECT count(*) FROM message_media")),
            MediaHashes(dir.path()).size());
  EXPECT_EQ(static_cast<int64_t>(MediaHashes(dir.path()).size()),
            30 + 3 - static_cast<int64_t>(summary->deleted_media));
  // The next day differs.
  const std::string after_first = DumpTable(dir.path(), "message");
  ASSERT_TRUE(Day(day).ok());
  EXPECT_NE(DumpTable(dir.path(), "message"), after_first);
  day.media = 201;
  EXPECT_EQ(Day(day).status().code(), Code::kInvalidArgument);
}

TEST(SampleChatKeepWritingTest, InsertsWhileAnotherConnectionReads) {
  TempDir dir;
  ASSERT_TRUE(Generate(SmallStore(dir.path(), 5)).ok());
  std::atomic<bool> stop{false};
  std::atomic<bool> started{false};
  Result<Summary> result = Internal("not run");
  std::thread writer([&] {
    KeepWritingOptions options;
    options.dir = dir.path();
    options.interval_ms = 1;
    options.stop = &stop;
    options.on_first_commit = [&] { started = true; };
    result = KeepWriting(options);
  });
  while (!started && writer.joinable()) std::this_thread::yield();
  // A reader sees committed transactions grow the table, never a half-written one.
  int64_t last = 0;
  int grew = 0;
  for (int i = 0; i < 50 && grew < 5; ++i) {
    const int64_t count = QueryInt(dir.path(), "SELECT count(*) FROM message");
    if (count > last) ++grew;
    EXPECT_GE(count, last);
    last = count;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  stop = true;
  writer.join();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_GE(grew, 2);
  EXPECT_GT(result->transactions, 0u);
  EXPECT_EQ(result->messages, 400u + result->inserted_messages);
  EXPECT_EQ(QueryText(dir.path(), "PRAGMA integrity_check"), "ok");
}

TEST(SampleChatCommandLineTest, KeepWritingStopsAfterItsTimeAndSaysReady) {
  TempDir dir;
  ASSERT_TRUE(Generate(SmallStore(dir.path(), 5)).ok());
  const std::string command = std::string("'") + MAKE_SAMPLE_CHAT_EXE + "' --out '" +
                              dir.path().string() + "' --keep-writing 0.3 --batch 3";
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[256];
  while (size_t n = fread(buf, 1, sizeof buf, pipe)) output.append(buf, n);
  EXPECT_EQ(pclose(pipe), 0);
  EXPECT_EQ(output.rfind("ready\n", 0), 0u) << output;
  EXPECT_NE(output.find("transactions"), std::string::npos) << output;
  EXPECT_GT(QueryInt(dir.path(), "SELECT count(*) FROM message"), 400);
}

TEST(SampleChatCommandLineTest, HelpExplainsAndBadInputFails) {
  const std::string exe = std::string("'") + MAKE_SAMPLE_CHAT_EXE + "'";
  EXPECT_EQ(std::system((exe + " --help >/dev/null").c_str()), 0);
  EXPECT_NE(std::system((exe + " --out /nonexistent-dir-xyz --media-min 5X 2>/dev/null").c_str()),
            0);
}

}  // namespace
}  // namespace chatvault::sample
