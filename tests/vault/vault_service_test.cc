// The vault's promises, in process: the guess counter, the replay rules and the answers under
// store faults, through the real JSON routes and the real client (tests/vault/in_process_vault.h).
// The same promises are checked against real keyvaultd processes in keyvaultd_test.cc and
// tests/etcd; this suite runs in seconds and can inject every store fault.
#include "chatvault/vault/vault_service.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include <nlohmann/json.hpp>

#include "chatvault/opaque/client.h"
#include "support/status_matchers.h"
#include "vault/in_process_vault.h"

namespace chatvault::vault {
namespace {

using ::chatvault::testing::IsOk;
using ::chatvault::testing::StatusIs;
using nlohmann::json;
using testing::InProcessVault;
using testing::MemoryRecordStore;
using testing::SentRequest;

constexpr const char* kPassword = "correct horse 42";
constexpr const char* kWrong = "wrong guess 7";

std::string AttemptsLeftText(int n) { return std::to_string(n) + " attempts remain"; }

class VaultServiceTest : public ::testing::Test {
 protected:
  key::BackupKey RegisterAlice(const char* password = kPassword) {
    key::BackupKey k = key::BackupKey::Generate();
    Status s = vault_.Client()->Register("alice", vault_.Token("alice"), password, k);
    EXPECT_THAT(s, IsOk());
    return k;
  }

  // Attempts left as the vault reports them for a wrong guess (which spends one).
  Status WrongGuess() { return vault_.Client()->Recover("alice", kWrong).status(); }

  InProcessVault vault_;
};

TEST_F(VaultServiceTest, RightPasswordReturnsTheKeyWrongOnesCountDown) {
  key::BackupKey k = RegisterAlice();
  for (int i = 1; i <= 3; ++i) {
    Status s = WrongGuess();
    EXPECT_EQ(s.code(), Code::kPermissionDenied);
    EXPECT_NE(s.message().find(AttemptsLeftText(10 - i)), std::string::npos) << s.message();
  }
  auto got = vault_.Client()->Recover("alice", kPassword);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->key.Hex(), k.Hex());
  EXPECT_EQ(got->attempts_remaining, 10u);
  EXPECT_NE(WrongGuess().message().find(AttemptsLeftText(9)), std::string::npos);
}

TEST_F(VaultServiceTest, TheTenthWrongGuessDestroysTheRecord) {
  RegisterAlice();
  for (int i = 0; i < 9; ++i) ASSERT_EQ(WrongGuess().code(), Code::kPermissionDenied);
  EXPECT_EQ(WrongGuess().code(), Code::kLockedOut);
  EXPECT_EQ(vault_.Client()->Recover("alice", kPassword).status().code(), Code::kLockedOut);
  EXPECT_EQ(vault_.metrics().guesses_counted.load(), 10u);
  EXPECT_EQ(vault_.metrics().lockouts.load(), 1u);
}

// --- Replays -------------------------------------------------------------------------------

// The attack of issue 16: a captured register/finish body, replayed after 9 wrong guesses, used
// to reset the counter (and to bring back a destroyed record).
TEST_F(VaultServiceTest, ReplayedRegistrationDoesNotResetTheCounter) {
  RegisterAlice();
  const SentRequest finish = vault_.LastSent("/v1/register/finish");
  for (int i = 0; i < 9; ++i) ASSERT_EQ(WrongGuess().code(), Code::kPermissionDenied);
  // The replay is recognised as the registration that made the record: nothing is written.
  const int writes = vault_.store().writes();
  EXPECT_EQ(vault_.Send(finish).status, 200);
  EXPECT_EQ(vault_.store().writes(), writes);
  EXPECT_EQ(WrongGuess().code(), Code::kLockedOut);
}

TEST_F(VaultServiceTest, ReplayedRegistrationCannotRestoreADestroyedRecord) {
  RegisterAlice();
  const SentRequest start = vault_.LastSent("/v1/register/start");
  const SentRequest finish = vault_.LastSent("/v1/register/finish");
  for (int i = 0; i < 10; ++i) (void)WrongGuess();
  ASSERT_EQ(vault_.Client()->Recover("alice", kPassword).status().code(), Code::kLockedOut);
  EXPECT_EQ(vault_.Send(start).status, 409);
  EXPECT_EQ(vault_.Send(finish).status, 409);
  EXPECT_EQ(vault_.Client()->Recover("alice", kPassword).status().code(), Code::kLockedOut);
}

TEST_F(VaultServiceTest, OldRegistrationAfterAPasswordChangeIsRefused) {
  key::BackupKey k = RegisterAlice();
  const SentRequest old_finish = vault_.LastSent("/v1/register/finish");
  ASSERT_TRUE(vault_.Client()->Register("alice", vault_.Token("alice"), "new pass 99", k).ok());
  EXPECT_EQ(vault_.Send(old_finish).status, 409);
  EXPECT_TRUE(vault_.Client()->Recover("alice", "new pass 99").ok());
  EXPECT_EQ(vault_.Client()->Recover("alice", kPassword).status().code(), Code::kPermissionDenied);
}

TEST_F(VaultServiceTest, RequestsDoNotCarryOverToAnotherAccount) {
  RegisterAlice();
  ASSERT_TRUE(vault_.Client()->Register("bob", vault_.Token("bob"), "bobs pass 1",
                                        key::BackupKey::Generate())
                  .ok());
  for (const char* path : {"/v1/register/start", "/v1/register/finish"}) {
    SentRequest sent = vault_.LastSent(path);
    json body = json::parse(sent.body);
    ASSERT_EQ(body["account"], "bob");
    body["account"] = "alice";
    body["token"] = vault_.Token("alice");  // even with a valid token for the victim
    const ApiReply reply = vault_.Send({sent.path, body.dump()});
    EXPECT_EQ(reply.status, 403) << path << ": " << reply.body;
  }
  EXPECT_TRUE(vault_.Client()->Recover("alice", kPassword).ok());
}

TEST_F(VaultServiceTest, ReplayedDeletionAfterReRegistrationIsRefused) {
  key::BackupKey k = RegisterAlice();
  ASSERT_TRUE(vault_.Client()->Delete("alice", vault_.Token("alice"), k).ok());
  const SentRequest deletion = vault_.LastSent("/v1/delete");
  EXPECT_EQ(vault_.Client()->Recover("alice", kPassword).status().code(), Code::kPermissionDenied);
  key::BackupKey again = RegisterAlice();
  EXPECT_EQ(vault_.Send(deletion).status, 409);
  auto got = vault_.Client()->Recover("alice", kPassword);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->key.Hex(), again.Hex());
}

// After "disable" the account is new again, yet the registration made before it stays dead.
TEST_F(VaultServiceTest, ARegistrationFromBeforeADeletionStaysDead) {
  key::BackupKey k = RegisterAlice();
  const SentRequest finish = vault_.LastSent("/v1/register/finish");
  ASSERT_TRUE(vault_.Client()->Delete("alice", vault_.Token("alice"), k).ok());
  EXPECT_EQ(vault_.Send(finish).status, 409);
  EXPECT_EQ(vault_.Client()->Recover("alice", kPassword).status().code(), Code::kPermissionDenied);
}

TEST_F(VaultServiceTest, AnotherBackupKeyCannotReplaceOrDeleteTheRecord) {
  key::BackupKey k = RegisterAlice();
  key::BackupKey thief = key::BackupKey::Generate();
  auto client = vault_.Client();
  EXPECT_EQ(client->Register("alice", vault_.Token("alice"), "stolen 123", thief).code(),
            Code::kAlreadyExists);
  EXPECT_EQ(client->Delete("alice", vault_.Token("alice"), thief).code(), Code::kPermissionDenied);
  auto got = client->Recover("alice", kPassword);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->key.Hex(), k.Hex());
}

TEST_F(VaultServiceTest, RequestsWithoutAValidTokenOrChallengeAreRefused) {
  key::BackupKey k = RegisterAlice();
  SentRequest finish = vault_.LastSent("/v1/register/finish");
  json body = json::parse(finish.body);
  body["token"] = "1." + std::string(64, '0');
  EXPECT_EQ(vault_.Send({finish.path, body.dump()}).status, 403);
  body = json::parse(finish.body);
  body["challenge"] = std::string(body["challenge"]).replace(0, 2, "ff");
  EXPECT_EQ(vault_.Send({finish.path, body.dump()}).status, 403);
  body.erase("proof");
  EXPECT_EQ(vault_.Send({finish.path, body.dump()}).status, 400);
  (void)k;
}

TEST_F(VaultServiceTest, ChallengesExpire) {
  key::BackupKey k = RegisterAlice();
  vault_.Advance(60);
  ASSERT_TRUE(vault_.Client()->Delete("alice", vault_.Token("alice"), k).ok());
  // A delete signed now but sent after the challenge's lifetime is refused as stale.
  RegisterAlice();
  auto challenge = vault_.Send({"/v1/challenge", json{{"account", "alice"},
                                                       {"token", vault_.Token("alice")}}.dump()});
  ASSERT_EQ(challenge.status, 200);
  vault_.Advance(601);
  SentRequest deletion = vault_.LastSent("/v1/delete");
  json body = json::parse(deletion.body);
  body["challenge"] = json::parse(challenge.body)["challenge"];
  body["token"] = vault_.Token("alice");
  EXPECT_EQ(vault_.Send({deletion.path, body.dump()}).status, 409);
}

// A valid KE3 settles its own guess and those before it, once.
TEST_F(VaultServiceTest, AReplayedValidLoginResetsNothing) {
  RegisterAlice();
  ASSERT_TRUE(vault_.Client()->Recover("alice", kPassword).ok());
  const SentRequest finish = vault_.LastSent("/v1/recover/finish");
  for (int i = 0; i < 9; ++i) ASSERT_EQ(WrongGuess().code(), Code::kPermissionDenied);
  const ApiReply replay = vault_.Send(finish);
  EXPECT_EQ(replay.status, 200);  // the same answer again (the key stays wrapped) ...
  EXPECT_EQ(WrongGuess().code(), Code::kLockedOut);  // ... but no reset
}

TEST_F(VaultServiceTest, GuessesStartedAfterARightLoginStillCount) {
  RegisterAlice();
  // The user's login counts guess 1; an attacker's three guesses follow before the user's KE3.
  auto user = opaque::ClientLogin::Start(AsBytes(kPassword));
  ASSERT_THAT(user, IsOk());
  ApiReply start = vault_.Send({"/v1/recover/start",
                                json{{"account", "alice"},
                                     {"ke1", HexEncode(user->ke1().Serialize())}}.dump()});
  ASSERT_EQ(start.status, 200);
  for (int i = 0; i < 3; ++i) ASSERT_EQ(WrongGuess().code(), Code::kPermissionDenied);
  const json reply = json::parse(start.body);
  auto ke2 = opaque::KE2::Parse(*HexDecode(reply["ke2"].get<std::string>()));
  auto ksf = opaque::KsfParams::Parse(*HexDecode(reply["ksf"].get<std::string>()));
  auto done = std::move(*user).Finish(*ke2, {}, *ksf);
  ASSERT_THAT(done, IsOk());
  ApiReply finish = vault_.Send({"/v1/recover/finish",
                                 json{{"session", reply["session"]},
                                      {"ke3", HexEncode(done->ke3.Serialize())}}.dump()});
  ASSERT_EQ(finish.status, 200) << finish.body;
  EXPECT_EQ(json::parse(finish.body)["attempts_remaining"], 7);
  EXPECT_NE(WrongGuess().message().find(AttemptsLeftText(6)), std::string::npos);
}

// Starts a login as a raw client would and leaves it open (no KE3).
struct OpenLogin {
  opaque::ClientLogin login;
  SentRequest start;
  json reply;
};

OpenLogin StartLogin(InProcessVault& vault, const char* password) {
  auto login = opaque::ClientLogin::Start(AsBytes(password));
  SentRequest start{"/v1/recover/start",
                    json{{"account", "alice"}, {"ke1", HexEncode(login->ke1().Serialize())}}.dump()};
  const ApiReply reply = vault.Send(start);
  return OpenLogin{std::move(*login), start, json::parse(reply.body)};
}

// Finishes an open login; returns the HTTP status.
int FinishLogin(InProcessVault& vault, OpenLogin& open) {
  auto ke2 = opaque::KE2::Parse(*HexDecode(open.reply["ke2"].get<std::string>()));
  auto ksf = opaque::KsfParams::Parse(*HexDecode(open.reply["ksf"].get<std::string>()));
  auto done = std::move(open.login).Finish(*ke2, {}, *ksf);
  opaque::KE3 ke3;
  if (done.ok()) ke3 = done->ke3;  // a wrong password leaves an all-zero MAC, which fails
  return vault.Send({"/v1/recover/finish", json{{"session", open.reply["session"]},
                                                {"ke3", HexEncode(ke3.Serialize())}}.dump()})
      .status;
}

// At the limit no new guess is counted, but a counted guess whose answer was lost is still
// answered, and the record goes when the last counted guess is settled wrong.
TEST_F(VaultServiceTest, AtTheLimitCountedGuessesAreStillAnsweredThenTheRecordGoes) {
  RegisterAlice();
  std::vector<OpenLogin> open;
  for (int i = 0; i < 10; ++i) {
    open.push_back(StartLogin(vault_, kWrong));
    ASSERT_EQ(open.back().reply["attempts_remaining"], 9 - i) << open.back().reply.dump();
  }
  EXPECT_EQ(vault_.Send(StartLogin(vault_, "an eleventh guess 1").start).status, 423);
  const ApiReply retried = vault_.Send(open[9].start);
  ASSERT_EQ(retried.status, 200);
  EXPECT_EQ(json::parse(retried.body)["ke2"], open[9].reply["ke2"]);
  EXPECT_EQ(json::parse(retried.body)["attempts_remaining"], 0);
  for (int i = 0; i < 9; ++i) EXPECT_EQ(FinishLogin(vault_, open[i]), 401);
  EXPECT_EQ(vault_.metrics().lockouts.load(), 0u);
  EXPECT_EQ(FinishLogin(vault_, open[9]), 423);
  EXPECT_EQ(vault_.metrics().lockouts.load(), 1u);
  EXPECT_EQ(vault_.metrics().guesses_counted.load(), 10u);
}

TEST_F(VaultServiceTest, AbandonedLoginsDestroyTheRecordOnceTheyExpire) {
  RegisterAlice();
  for (int i = 0; i < 10; ++i) StartLogin(vault_, kWrong);
  EXPECT_EQ(vault_.Client()->Recover("alice", kPassword).status().code(), Code::kLockedOut);
  EXPECT_EQ(vault_.metrics().lockouts.load(), 0u);
  vault_.Advance(601);
  EXPECT_EQ(vault_.Client()->Recover("alice", kPassword).status().code(), Code::kLockedOut);
  EXPECT_EQ(vault_.metrics().lockouts.load(), 1u);
}

TEST_F(VaultServiceTest, ARightPasswordCountedTenthStillOpensTheRecord) {
  key::BackupKey k = RegisterAlice();
  for (int i = 0; i < 9; ++i) ASSERT_EQ(WrongGuess().code(), Code::kPermissionDenied);
  OpenLogin user = StartLogin(vault_, kPassword);
  ASSERT_EQ(user.reply["attempts_remaining"], 0);
  EXPECT_EQ(WrongGuess().code(), Code::kLockedOut);  // an attacker's 11th: refused, not counted
  EXPECT_EQ(FinishLogin(vault_, user), 200);
  auto got = vault_.Client()->Recover("alice", kPassword);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->key.Hex(), k.Hex());
}

// --- Answers that match what was counted ---------------------------------------------------

TEST_F(VaultServiceTest, ARetriedKe1IsAnsweredFromTheGuessItSpent) {
  RegisterAlice();
  auto login = opaque::ClientLogin::Start(AsBytes(kWrong));
  const SentRequest start{"/v1/recover/start",
                          json{{"account", "alice"},
                               {"ke1", HexEncode(login->ke1().Serialize())}}.dump()};
  const ApiReply first = vault_.Send(start);
  const ApiReply again = vault_.Send(start);
  ASSERT_EQ(first.status, 200);
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(json::parse(first.body)["ke2"], json::parse(again.body)["ke2"]);
  EXPECT_EQ(json::parse(again.body)["attempts_remaining"], 9);
  EXPECT_EQ(vault_.metrics().guesses_counted.load(), 1u);
}

// The store applied the counted guess but the vault heard "unavailable" (an etcd leader died
// after the commit): the client repeats the same KE1 and is answered from that guess.
TEST_F(VaultServiceTest, AGuessCountedButAnsweredUnavailableIsNotCountedTwice) {
  RegisterAlice();
  vault_.store().FailNextWrites(MemoryRecordStore::Fault::kAppliedButUnknown);
  Status s = WrongGuess();
  EXPECT_NE(s.message().find(AttemptsLeftText(9)), std::string::npos) << s.ToString();
  EXPECT_NE(WrongGuess().message().find(AttemptsLeftText(8)), std::string::npos);
}

TEST_F(VaultServiceTest, AnUnavailableStoreCountsNothingAndSaysSoWithoutDetail) {
  RegisterAlice();
  vault_.store().FailNextWrites(MemoryRecordStore::Fault::kUnavailable, 1000);
  auto login = opaque::ClientLogin::Start(AsBytes(kWrong));
  const ApiReply reply = vault_.Send({"/v1/recover/start",
                                      json{{"account", "alice"},
                                           {"ke1", HexEncode(login->ke1().Serialize())}}.dump()});
  EXPECT_EQ(reply.status, 503);
  EXPECT_EQ(reply.body.find("test store"), std::string::npos) << reply.body;
  vault_.store().FailNextWrites(MemoryRecordStore::Fault::kNone, 0);
  EXPECT_NE(WrongGuess().message().find(AttemptsLeftText(9)), std::string::npos);
}

TEST_F(VaultServiceTest, LostAnswersToEveryStepAreRetriedWithoutExtraGuesses) {
  key::BackupKey k = RegisterAlice();
  for (const char* path : {"/v1/recover/start", "/v1/recover/finish"}) {
    vault_.LoseRepliesTo(path);
    auto got = vault_.Client()->Recover("alice", kPassword);
    ASSERT_THAT(got, IsOk()) << path;
    EXPECT_EQ(got->key.Hex(), k.Hex());
  }
  vault_.LoseRepliesTo("/v1/recover/start");
  EXPECT_NE(WrongGuess().message().find(AttemptsLeftText(9)), std::string::npos);
  for (const char* path : {"/v1/register/start", "/v1/register/finish", "/v1/challenge"}) {
    vault_.LoseRepliesTo(path);
    Status s = vault_.Client()->Register("alice", vault_.Token("alice"), kPassword, k);
    EXPECT_THAT(s, IsOk()) << path;
  }
  vault_.LoseRepliesTo("/v1/delete");
  EXPECT_TRUE(vault_.Client()->Delete("alice", vault_.Token("alice"), k).ok());
  EXPECT_EQ(vault_.Client()->Recover("alice", kPassword).status().code(), Code::kPermissionDenied);
}

TEST_F(VaultServiceTest, ConflictsWithOtherWritersAreRetried) {
  key::BackupKey k = RegisterAlice();
  vault_.store().FailNextWrites(MemoryRecordStore::Fault::kConflict, 3);
  auto got = vault_.Client()->Recover("alice", kPassword);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->key.Hex(), k.Hex());
  // A registration whose record changed under it starts over with a new challenge.
  vault_.store().FailNextWrites(MemoryRecordStore::Fault::kConflict, 1);
  EXPECT_TRUE(vault_.Client()->Register("alice", vault_.Token("alice"), "another 42", k).ok());
  EXPECT_TRUE(vault_.Client()->Recover("alice", "another 42").ok());
}

// --- A slow phone ---------------------------------------------------------------------------

TEST_F(VaultServiceTest, ASlowPhoneHasMinutesBetweenKe2AndKe3) {
  key::BackupKey k = RegisterAlice();
  vaultclient::ClientOptions slow;
  slow.before_finish = [this] { vault_.Advance(9 * 60); };
  auto got = vault_.Client(slow)->Recover("alice", kPassword);
  ASSERT_THAT(got, IsOk());
  EXPECT_EQ(got->key.Hex(), k.Hex());
  EXPECT_EQ(got->attempts_remaining, 10u);
  vaultclient::ClientOptions too_slow;
  too_slow.before_finish = [this] { vault_.Advance(11 * 60); };
  auto late = vault_.Client(too_slow)->Recover("alice", kPassword);
  EXPECT_EQ(late.status().code(), Code::kUnavailable) << late.status().ToString();
  EXPECT_NE(WrongGuess().message().find(AttemptsLeftText(8)), std::string::npos);
}

// --- Unknown and deleted accounts -------------------------------------------------------------

TEST_F(VaultServiceTest, UnknownAndDeletedAccountsGetRepeatableFakeReplies) {
  key::BackupKey k = RegisterAlice();
  ASSERT_TRUE(vault_.Client()->Delete("alice", vault_.Token("alice"), k).ok());
  for (const char* account : {"alice", "nobody"}) {
    auto login = opaque::ClientLogin::Start(AsBytes(kPassword));
    const SentRequest start{"/v1/recover/start",
                            json{{"account", account},
                                 {"ke1", HexEncode(login->ke1().Serialize())}}.dump()};
    const ApiReply first = vault_.Send(start);
    ASSERT_EQ(first.status, 200);
    EXPECT_EQ(json::parse(first.body)["ke2"], json::parse(vault_.Send(start).body)["ke2"]);
    EXPECT_EQ(vault_.Client()->Recover(account, kPassword).status().code(),
              Code::kPermissionDenied);
  }
  EXPECT_EQ(vault_.metrics().guesses_counted.load(), 0u);
}

// --- The backup sequence --------------------------------------------------------------------

TEST_F(VaultServiceTest, TheBackupSequenceIsSignedMonotonicAndSurvivesAPasswordChange) {
  key::BackupKey k = RegisterAlice();
  EXPECT_FALSE(vault_.Client()->Recover("alice", kPassword)->backup_sequence.has_value());
  auto client = vault_.Client();
  ASSERT_TRUE(client->SetBackupSequence("alice", k, 7).ok());
  ASSERT_TRUE(client->SetBackupSequence("alice", k, 5).ok());  // older: ignored
  EXPECT_EQ(client->SetBackupSequence("alice", key::BackupKey::Generate(), 9).code(),
            Code::kPermissionDenied);
  EXPECT_EQ(vault_.Client()->Recover("alice", kPassword)->backup_sequence, 7u);
  ASSERT_TRUE(client->Register("alice", vault_.Token("alice"), "changed 77", k).ok());
  EXPECT_EQ(vault_.Client()->Recover("alice", "changed 77")->backup_sequence, 7u);
}

// The route takes no token: an account nobody registered, or one deleted, must get the answer a
// bad signature gets, or anyone could ask it which accounts hold a vault record.
TEST_F(VaultServiceTest, ABackupSequenceForNoRecordIsAnsweredAsABadSignature) {
  key::BackupKey k = RegisterAlice();
  const Status forged = vault_.Client()->SetBackupSequence("alice", key::BackupKey::Generate(), 9);
  const Status unknown = vault_.Client()->SetBackupSequence("bob", key::BackupKey::Generate(), 9);
  EXPECT_THAT(forged, StatusIs(Code::kPermissionDenied));
  EXPECT_EQ(unknown.code(), forged.code());
  EXPECT_EQ(unknown.message(), forged.message());
  ASSERT_THAT(vault_.Client()->Delete("alice", vault_.Token("alice"), k), IsOk());
  const Status deleted = vault_.Client()->SetBackupSequence("alice", k, 10);
  EXPECT_EQ(deleted.code(), forged.code());
  EXPECT_EQ(deleted.message(), forged.message());
}

// --- The audit log --------------------------------------------------------------------------

std::vector<json> AuditLines(const std::string& path) {
  std::ifstream in(path);
  std::vector<json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  return lines;
}

std::vector<std::string> EventNames(const std::vector<json>& lines) {
  std::vector<std::string> names;
  for (const json& line : lines) names.push_back(line["event"]);
  return names;
}

TEST_F(VaultServiceTest, EverySecurityEventIsLoggedAndNoLineHoldsASecret) {
  key::BackupKey k = RegisterAlice();
  (void)WrongGuess();
  ASSERT_TRUE(vault_.Client()->Recover("alice", kPassword).ok());
  ASSERT_TRUE(vault_.Client()->SetBackupSequence("alice", k, 3).ok());
  ASSERT_TRUE(vault_.Client()->Register("alice", vault_.Token("alice"), "changed 42", k).ok());
  (void)vault_.Client()->Register("alice", vault_.Token("alice"), "stolen 42",
                                  key::BackupKey::Generate());
  (void)vault_.Client()->Register("alice", "1.00", "forged 42", k);
  for (int i = 0; i < 10; ++i) (void)WrongGuess();
  ASSERT_TRUE(vault_.Client()->Register("alice", vault_.Token("alice"), kPassword, k).ok());
  ASSERT_TRUE(vault_.Client()->Delete("alice", vault_.Token("alice"), k).ok());

  const std::vector<json> lines = AuditLines(vault_.audit().path());
  const std::vector<std::string> names = EventNames(lines);
  for (const char* kind : {"registered", "replaced", "guess_counted", "login_settled",
                           "wrong_password", "record_destroyed", "deleted", "token_rejected",
                           "proof_rejected", "backup_sequence"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), kind), names.end()) << kind;
  }
  const std::string text = [&] {
    std::ifstream in(vault_.audit().path());
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }();
  for (const std::string& secret : {std::string("alice"), std::string(kPassword),
                                    std::string(kWrong), vault_.Token("alice"), k.Hex()}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << "the audit log holds '" << secret << "'";
  }
  for (const SentRequest& sent : vault_.Sent()) {
    const json body = json::parse(sent.body);
    for (const char* field : {"proof", "token", "ke1", "ke3", "session", "record", "wrapped_key"}) {
      if (body.contains(field) && body[field].is_string()) {
        EXPECT_EQ(text.find(body[field].get<std::string>()), std::string::npos) << field;
      }
    }
  }
  for (const json& line : lines) {
    EXPECT_EQ(line["account"], vault_.audit().AccountHash("alice")) << line.dump();
    EXPECT_EQ(line["instance"], "test-instance");
    EXPECT_FALSE(line["request"].get<std::string>().empty());
  }
  // A counted guess says how many tries it left.
  for (const json& line : lines) {
    if (line["event"] == "guess_counted") {
      EXPECT_TRUE(line.contains("attempts_left"));
    }
  }
}

// An event is written before its effect is acknowledged: when the log cannot be written the
// client is told to retry, and the retry is answered (and logged) from what was stored.
TEST_F(VaultServiceTest, NoGuessIsAnsweredUnlogged) {
  RegisterAlice();
  vault_.audit().SetFailing(true);
  auto login = opaque::ClientLogin::Start(AsBytes(kWrong));
  const SentRequest start{"/v1/recover/start",
                          json{{"account", "alice"},
                               {"ke1", HexEncode(login->ke1().Serialize())}}.dump()};
  EXPECT_EQ(vault_.Send(start).status, 503);
  vault_.audit().SetFailing(false);
  const ApiReply retried = vault_.Send(start);
  ASSERT_EQ(retried.status, 200);
  EXPECT_EQ(json::parse(retried.body)["attempts_remaining"], 9);
  const std::vector<json> lines = AuditLines(vault_.audit().path());
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines.back()["event"], "guess_counted");
  EXPECT_EQ(lines.back()["serial"], 1);
}

}  // namespace
}  // namespace chatvault::vault
