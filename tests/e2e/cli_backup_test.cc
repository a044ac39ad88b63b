// init / backup / restore / verify / status through the real binary.
#include <gtest/gtest.h>

#include <filesystem>

#include "e2e/cli_test_base.h"

namespace chatvault::testing {
namespace {
namespace fs = std::filesystem;

class CliBackup : public CliTest {
 protected:
  void InitForScripts() {
    auto r =
        cli_.Run({"--json", "init", "--key", "--data", data_, "--to", store_, "--i-saved-the-key"});
    ASSERT_EQ(r.rc, 0) << r.out << r.err;
    key_hex_ = r.Json()["key"].get<std::string>();
    ASSERT_EQ(key_hex_.size(), 64u);
  }

  // Files of the restored directory equal the source's (database compared by content).
  void ExpectRestoredMatches(const std::string& out) {
    EXPECT_EQ(QueryInt(out + "/msgstore.db", "PRAGMA integrity_check"), 1);
    EXPECT_EQ(QueryInt(out + "/msgstore.db", "SELECT count(*) FROM messages"),
              QueryInt(data_ + "/msgstore.db", "SELECT count(*) FROM messages"));
    for (const auto& e : fs::recursive_directory_iterator(data_)) {
      const std::string rel = fs::relative(e.path(), data_).string();
      if (!e.is_regular_file() || rel.starts_with("msgstore.db")) continue;
      EXPECT_EQ(ReadFile(e.path()), ReadFile(out + "/" + rel)) << rel;
    }
  }

  std::string key_hex_;
};

TEST_F(CliBackup, RoundTripWithKeyFileAndTypedKey) {
  InitForScripts();
  auto b = cli_.Run({"--json", "backup"});
  ASSERT_EQ(b.rc, 0) << b.out << b.err;
  EXPECT_EQ(b.Json()["files"], 4);
  EXPECT_GT(b.Json()["bytes_uploaded"].get<uint64_t>(), 0u);

  auto r = cli_.Run(
      {"restore", "--from", store_, "--to", dir_.Sub("out1"), "--key-file", cli_.key_file()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("every byte verified"), std::string::npos) << r.out;
  ExpectRestoredMatches(dir_.Sub("out1"));

  // The key as people write it: groups, upper case, dashes; and typed on stdin.
  std::string written;
  for (size_t i = 0; i < key_hex_.size(); i += 4)
    written += key_hex_.substr(i, 4) + (i % 8 ? "-" : " ");
  for (auto& c : written) c = static_cast<char>(std::toupper(c));
  r = cli_.Run({"restore", "--from", store_, "--to", dir_.Sub("out2"), "--key", written});
  ASSERT_EQ(r.rc, 0) << r.err;
  r = cli_.Run({"restore", "--from", store_, "--to", dir_.Sub("out3")}, {}, key_hex_ + "\n");
  ASSERT_EQ(r.rc, 0) << r.err;
  ExpectRestoredMatches(dir_.Sub("out3"));

  // Non-empty target refused without --force.
  r = cli_.Run(
      {"restore", "--from", store_, "--to", dir_.Sub("out1"), "--key-file", cli_.key_file()});
  EXPECT_EQ(r.rc, 2) << r.err;
  EXPECT_NE(r.err.find("not empty"), std::string::npos) << r.err;

  auto v = cli_.Run({"--json", "verify"});
  EXPECT_EQ(v.rc, 0) << v.out << v.err;
  auto s = cli_.Run({"--json", "status"});
  ASSERT_EQ(s.rc, 0);
  EXPECT_EQ(s.Json()["state"], "ready");
  EXPECT_EQ(s.Json()["current"]["sequence"], 1);
}

TEST_F(CliBackup, SetupCompletesOnlyAfterTheKeyIsTypedBack) {
  // Three wrong answers: the key is shown, setup stays pending, backups refuse.
  const std::string wrong = std::string(64, '1') + "\n";
  auto r = cli_.Run({"init", "--key", "--data", data_, "--to", store_}, {},
                    wrong + "nonsense\n" + wrong);
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("pending"), std::string::npos) << r.out;
  auto b = cli_.Run({"backup"});
  EXPECT_EQ(b.rc, 2);
  EXPECT_NE(b.err.find("init --confirm"), std::string::npos) << b.err;

  const std::string key = Slurp(cli_.key_file());
  r = cli_.Run({"init", "--confirm"}, {}, key.substr(0, 64) + "\n");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(cli_.Run({"backup"}).rc, 0);

  // An existing setup is not replaced by accident.
  r = cli_.Run({"init", "--key", "--data", data_, "--to", store_, "--i-saved-the-key"});
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("--force"), std::string::npos) << r.err;
  EXPECT_EQ(Slurp(cli_.key_file()), key);
}

TEST_F(CliBackup, IncrementalBackupUploadsOnlyChangedChunks) {
  InitForScripts();
  ASSERT_EQ(cli_.Run({"backup"}).rc, 0);
  auto second = cli_.Run({"--json", "backup"});
  ASSERT_EQ(second.rc, 0);
  EXPECT_EQ(second.Json()["new_chunks"], 0);
  EXPECT_EQ(second.Json()["bytes_uploaded"], 0);
  WriteFile(data_ + "/Media/Images/new.jpg", PseudoRandom(70000, 77));
  auto third = cli_.Run({"--json", "backup"});
  ASSERT_EQ(third.rc, 0);
  EXPECT_EQ(third.Json()["new_chunks"], 1);
  EXPECT_LT(third.Json()["bytes_uploaded"].get<uint64_t>(), 80000u);
  auto r = cli_.Run(
      {"restore", "--from", store_, "--to", dir_.Sub("out"), "--key-file", cli_.key_file()});
  ASSERT_EQ(r.rc, 0) << r.err;
  ExpectRestoredMatches(dir_.Sub("out"));
}

TEST_F(CliBackup, WrongKeyAndEachCorruptionGiveAClearError) {
  InitForScripts();
  ASSERT_EQ(cli_.Run({"backup"}).rc, 0);
  auto r =
      cli_.Run({"restore", "--from", store_, "--to", dir_.Sub("w"), "--key", std::string(64, 'a')});
  EXPECT_EQ(r.rc, 4);
  EXPECT_NE(r.err.find("different key"), std::string::npos) << r.err;

  std::vector<std::string> chunks;
  for (const auto& e : fs::recursive_directory_iterator(store_ + "/chunks")) {
    if (e.is_regular_file()) chunks.push_back(e.path());
  }
  std::sort(chunks.begin(), chunks.end());
  ASSERT_GE(chunks.size(), 2u);
  const auto a = ReadFile(chunks[0]);
  const auto b = ReadFile(chunks[1]);
  auto restore_original = [&] {
    WriteFile(chunks[0], a);
    WriteFile(chunks[1], b);
    ASSERT_EQ(cli_.Run({"verify"}).rc, 0);
  };
  auto expect_damaged = [&](const std::string& word) {
    auto v = cli_.Run({"verify"});
    EXPECT_EQ(v.rc, 5) << v.err;
    EXPECT_NE(v.err.find(word), std::string::npos) << v.err;
    auto rr = cli_.Run({"restore", "--from", store_, "--to", dir_.Sub("bad"), "--key-file",
                        cli_.key_file(), "--force"});
    EXPECT_EQ(rr.rc, 5) << rr.err;
  };
  auto flipped = a;
  flipped[flipped.size() / 2] ^= 4;
  WriteFile(chunks[0], flipped);
  expect_damaged("damaged");
  restore_original();

  auto cut = a;
  cut.resize(cut.size() / 2);
  WriteFile(chunks[0], cut);
  expect_damaged("damaged");
  restore_original();

  fs::remove(chunks[0]);
  expect_damaged("missing");
  restore_original();

  WriteFile(chunks[0], b);
  WriteFile(chunks[1], a);
  expect_damaged("swapped");
  restore_original();
}

TEST_F(CliBackup, HelpExplainsAndErrorsAreOneSentence) {
  auto h = cli_.Run({"backup", "--help"});
  EXPECT_EQ(h.rc, 0);
  EXPECT_NE(h.out.find("Safe to interrupt"), std::string::npos);
  auto r = cli_.Run({"backup"});
  EXPECT_EQ(r.rc, 3);
  EXPECT_NE(r.err.find("not set up"), std::string::npos) << r.err;
  auto j = cli_.Run({"--json", "restore", "--from", dir_.Sub("nothing"), "--to", dir_.Sub("o"),
                     "--key", std::string(64, 'b')});
  EXPECT_EQ(j.rc, 3);
  EXPECT_EQ(j.Json()["ok"], false);
}

}  // namespace
}  // namespace chatvault::testing
