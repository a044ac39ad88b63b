// A realm's audit log and its replay after a restore (docs/OPERATIONS.md, "Restore"), in process:
// every realm event is logged, marked as a realm's and without a secret; a realm store restored
// from a snapshot gets back the guesses, destructions and deletions made since.
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "chatvault/vault/audit_replay.h"
#include "support/status_matchers.h"
#include "vault/in_process_realms.h"
#include "vault/realm_record.h"
#include "vault/sealed_box.h"

namespace chatvault::testing {
namespace {

using nlohmann::json;

constexpr const char* kPassword = "correct horse 42";
constexpr const char* kWrong = "wrong guess 7";

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Every key's value.
std::map<std::string, Bytes> Contents(MemoryRecordStore& store) {
  std::map<std::string, Bytes> contents;
  const std::vector<std::string> keys = store.ListKeys("").value();
  for (const std::string& key : keys) {
    contents[key] = store.Get(key).value()->value;
  }
  return contents;
}

// Puts `snapshot` in place of everything the store holds, as restore-store does.
void Restore(MemoryRecordStore& store, const std::map<std::string, Bytes>& snapshot) {
  const std::vector<std::string> keys = store.ListKeys("").value();
  for (const std::string& key : keys) {
    ASSERT_THAT(store.CompareAndDelete(key, store.Get(key).value()->version), IsOk());
  }
  for (const auto& [key, value] : snapshot) {
    ASSERT_THAT(store.CompareAndSet(key, 0, value), IsOk());
  }
}

std::optional<vault::RealmRecord> RecordAt(InProcessRealms::Realm& realm,
                                           const std::string& account) {
  const std::string key = vault::RealmStoreKey(account);
  auto stored = realm.store.Get(key);
  if (!stored.ok() || !*stored) return std::nullopt;
  const vault::RecordSealer sealer(vault::VaultKeys::Derive(realm.master).record.Clone());
  auto plain = sealer.Open(key, (*stored)->value);
  if (!plain.ok()) return std::nullopt;
  auto record = vault::RealmRecord::Parse(*plain);
  if (!record.ok()) return std::nullopt;
  return std::move(*record);
}

class RealmReplayTest : public ::testing::Test {
 protected:
  RealmReplayTest() : realms_(3) {}

  key::BackupKey Register(const std::string& account, const std::string& password) {
    key::BackupKey k = key::BackupKey::Generate();
    EXPECT_THAT(realms_.Client(2)->Register(account, {realms_.Token(account)}, password, k), IsOk())
        << account;
    return k;
  }
  void WrongGuesses(const std::string& account, int count) {
    for (int i = 0; i < count; ++i) {
      EXPECT_FALSE(realms_.Client(2)->Recover(account, kWrong).ok()) << account;
    }
  }
  InProcessRealms::Realm& first() { return realms_.realm(0); }
  std::vector<vault::AuditLine> Lines() {
    return vault::ParseAuditLines(ReadAll(first().audit.path()), "audit.jsonl").value();
  }
  std::string Hash(const std::string& account) { return first().audit.AccountHash(account); }

  InProcessRealms realms_;
};

TEST_F(RealmReplayTest, EveryRealmEventIsLoggedMarkedAsARealmsAndHoldsNoSecret) {
  key::BackupKey k = Register("alice", kPassword);
  WrongGuesses("alice", 1);
  ASSERT_THAT(realms_.Client(2)->Recover("alice", kPassword), IsOk());
  ASSERT_THAT(realms_.Client(2)->SetBackupSequence("alice", k, 3), IsOk());
  realms_.Advance(1);
  ASSERT_THAT(realms_.Client(2)->Register("alice", {realms_.Token("alice")}, "changed 42", k),
              IsOk());
  (void)realms_.Client(2)->Register("alice", {realms_.Token("alice")}, "stolen 42",
                                    key::BackupKey::Generate());
  (void)realms_.Client(2)->Register("alice", {"1.00"}, "forged 42", k);
  WrongGuesses("alice", 7);
  realms_.Advance(601);
  WrongGuesses("alice", 1);  // the limit, once no guess can be settled: destroyed
  realms_.Advance(1);
  ASSERT_THAT(realms_.Client(2)->Register("alice", {realms_.Token("alice")}, kPassword, k), IsOk());
  ASSERT_THAT(realms_.Client(2)->Delete("alice", {realms_.Token("alice")}, k), IsOk());

  const std::string text = ReadAll(first().audit.path());
  std::set<std::string> names;
  for (std::istringstream in(text); !in.eof();) {
    std::string raw;
    std::getline(in, raw);
    if (raw.empty()) continue;
    const json line = json::parse(raw);
    names.insert(line["event"].get<std::string>());
    EXPECT_EQ(line.value("record", std::string()), "realm") << raw;
    EXPECT_EQ(line["account"], Hash("alice")) << raw;
    if (line["event"] == "registered" || line["event"] == "replaced") {
      EXPECT_EQ(line.value("registration", std::string()).size(), 32u) << raw;
    }
  }
  for (const char* kind :
       {"registered", "replaced", "guess_counted", "login_settled", "record_destroyed", "deleted",
        "token_rejected", "proof_rejected", "backup_sequence"}) {
    EXPECT_TRUE(names.count(kind)) << kind;
  }
  for (const std::string& secret : {std::string("alice"), std::string(kPassword),
                                    std::string(kWrong), realms_.Token("alice"), k.Hex()}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << "the audit log holds '" << secret << "'";
  }
  // The lines read back as a realm's.
  for (const vault::AuditLine& line : Lines()) EXPECT_EQ(line.record, vault::AuditedRecord::kRealm);
}

TEST_F(RealmReplayTest, ARestoredRealmGetsBackWhatHappenedAfterItsSnapshot) {
  Register("alice", kPassword);
  Register("bob", kPassword);
  key::BackupKey carol = Register("carol", kPassword);
  key::BackupKey frank = Register("frank", kPassword);
  const auto snapshot = Contents(first().store);

  // After the snapshot.
  WrongGuesses("alice", 3);
  WrongGuesses("bob", 7);
  realms_.Advance(601);
  WrongGuesses("bob", 1);
  ASSERT_THAT(realms_.Client(2)->Delete("carol", {realms_.Token("carol")}, carol), IsOk());
  realms_.Advance(1);
  ASSERT_THAT(realms_.Client(2)->Register("frank", {realms_.Token("frank")}, "franks new 2", frank),
              IsOk());
  WrongGuesses("frank", 2);
  Register("dave", kPassword);
  const uint64_t alice_live = RecordAt(first(), "alice")->guesses.failed();
  ASSERT_EQ(alice_live, 3u);

  Restore(first().store, snapshot);
  ASSERT_EQ(RecordAt(first(), "alice")->guesses.failed(), 0u);
  std::vector<vault::AuditLine> lines = Lines();
  // A line of the single vault's record for the same account is not the realm's.
  lines.push_back(vault::AuditLine{lines.back().time_ms,
                                   "record_destroyed",
                                   Hash("alice"),
                                   {},
                                   {},
                                   vault::AuditedRecord::kAccount});

  vault::ReplayOptions dry;
  dry.dry_run = true;
  const int writes = first().store.writes();
  auto would = vault::ReplayAuditLog(first().store, first().master, lines, dry);
  ASSERT_THAT(would, IsOk());
  EXPECT_EQ(first().store.writes(), writes) << "a dry run wrote";
  EXPECT_EQ(Contents(first().store), snapshot);
  EXPECT_EQ(would->counters_raised, 2u);  // alice, and frank's older registration

  auto report = vault::ReplayAuditLog(first().store, first().master, lines, {});
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->counters_raised, 2u);
  EXPECT_EQ(report->counters_lowered, 0u);
  EXPECT_EQ(report->destroyed, 1u);
  EXPECT_EQ(report->deleted, 1u);
  EXPECT_EQ(report->registered_again, 1u);
  EXPECT_EQ(report->not_in_store, 2u);  // dave's realm record, alice's vault record
  std::map<std::pair<vault::AuditedRecord, std::string>, std::string> said;
  for (const vault::ReplayChange& change : report->changes) {
    said[{change.record, change.account}] = change.what;
  }
  auto said_of = [&](vault::AuditedRecord record, const std::string& account) {
    return said[std::make_pair(record, Hash(account))];
  };
  EXPECT_THAT(said_of(vault::AuditedRecord::kRealm, "dave"),
              ::testing::HasSubstr("not in the restored store"));
  EXPECT_THAT(said_of(vault::AuditedRecord::kAccount, "alice"),
              ::testing::HasSubstr("not in the restored store"));
  EXPECT_THAT(said_of(vault::AuditedRecord::kRealm, "frank"),
              ::testing::HasSubstr("registered again"));

  EXPECT_EQ(RecordAt(first(), "alice")->guesses.failed(), alice_live);
  EXPECT_EQ(RecordAt(first(), "bob")->state, vault::RealmRecord::State::kTombstone);
  EXPECT_EQ(RecordAt(first(), "carol")->state, vault::RealmRecord::State::kDeleted);
  EXPECT_EQ(RecordAt(first(), "frank")->guesses.failed(), 2u);
  EXPECT_FALSE(RecordAt(first(), "dave").has_value());
  // The restored realm answers alice's next guess with what the lost store would have.
  const json version =
      json::parse(realms_.Send(0, "/v1/realm/version", {{"account", "alice"}}).body);
  const vault::ApiReply evaluated = realms_.Send(
      0, "/v1/realm/evaluate",
      {{"account", "alice"},
       {"version", version["version"]},
       {"blinded", HexEncode(opaque::VoprfClient::Blind(AsBytes("next"))->blinded())}});
  ASSERT_EQ(evaluated.status, 200) << evaluated.body;
  EXPECT_EQ(json::parse(evaluated.body)["attempts_remaining"], 7 - 4);
  EXPECT_EQ(realms_.Send(0, "/v1/realm/version", {{"account", "bob"}}).status, 423);

  // Replaying again (with the guess just counted) changes nothing more.
  const auto replayed = Contents(first().store);
  const int replayed_writes = first().store.writes();
  auto twice = vault::ReplayAuditLog(first().store, first().master, Lines(), {});
  ASSERT_THAT(twice, IsOk());
  EXPECT_EQ(twice->counters_raised + twice->counters_lowered + twice->destroyed + twice->deleted,
            0u);
  EXPECT_EQ(Contents(first().store), replayed);
  EXPECT_EQ(first().store.writes(), replayed_writes);
}

}  // namespace
}  // namespace chatvault::testing
