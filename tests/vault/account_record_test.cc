#include <gtest/gtest.h>

#include "chatvault/crypto/random.h"
#include "chatvault/key/backup_key.h"
#include "chatvault/vault/account_record.h"
#include "chatvault/vaultclient/key_wrap.h"
#include "chatvault/vaultproto/signed_request.h"
#include "support/status_matchers.h"

namespace chatvault::vault {
namespace {

using ::chatvault::testing::IsOk;

AccountRecord Active() {
  AccountRecord r;
  crypto::RandomFill(r.generation);
  for (uint8_t i = 1; i <= 12; ++i) r.guesses.Count(RequestDigest{i}, 1000 + i, 2);
  r.guesses.Settle(5);
  crypto::RandomFill(r.device_key);
  crypto::RandomFill(r.registration_id);
  r.backup_sequence.sequence = 3;
  crypto::RandomFill(r.backup_sequence.signature);
  crypto::RandomFill(r.opaque_record.masking_key);
  r.ksf = opaque::KsfParams{opaque::KsfAlgorithm::kArgon2id, 64, 1, 1};
  r.wrapped_key = crypto::RandomBytes(60);
  return r;
}

TEST(AccountRecord, RoundTripsActiveAndTombstone) {
  AccountRecord r = Active();
  // A record's client public key must be a valid point for Parse; take one from a real element.
  r.opaque_record.client_public_key = {0xe2, 0xf2, 0xae, 0x0a, 0x6a, 0xbc, 0x4e, 0x71, 0xa8, 0x84, 0xa9,
                                       0x61, 0xc5, 0x00, 0x51, 0x5f, 0x58, 0xe3, 0x0b, 0x6a, 0xa5, 0x82,
                                       0xdd, 0x8d, 0xb6, 0xa6, 0x59, 0x45, 0xe0, 0x8d, 0x2d, 0x76};
  auto parsed = AccountRecord::Parse(r.Serialize());
  ASSERT_THAT(parsed, IsOk());
  EXPECT_EQ(parsed->Serialize(), r.Serialize());
  EXPECT_EQ(parsed->guesses.failed(), 7u);
  ASSERT_EQ(parsed->guesses.recent().size(), 2u);
  EXPECT_EQ(parsed->guesses.recent()[1].serial, 12u);
  EXPECT_EQ(parsed->guesses.recent()[1].counted_unix, 1012);

  AccountRecord tomb;
  tomb.state = AccountRecord::State::kTombstone;
  tomb.device_key = r.device_key;
  auto t = AccountRecord::Parse(tomb.Serialize());
  ASSERT_THAT(t, IsOk());
  EXPECT_FALSE(t->active());
  EXPECT_EQ(t->device_key, r.device_key);

  AccountRecord deleted;
  deleted.state = AccountRecord::State::kDeleted;
  auto d = AccountRecord::Parse(deleted.Serialize());
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->state, AccountRecord::State::kDeleted);
}

TEST(AccountRecord, InconsistentOrForeignRecordsAreRefused) {
  AccountRecord r;
  r.state = AccountRecord::State::kTombstone;
  r.guesses.Count(RequestDigest{1}, 1, 10);
  Bytes inconsistent = r.Serialize();
  inconsistent[2 + kGenerationSize + 7] = 0;   // guess serial 1 -> 0 ...
  inconsistent[2 + kGenerationSize + 15] = 1;  // ... settled serial 0 -> 1
  EXPECT_EQ(AccountRecord::Parse(inconsistent).status().code(), Code::kCorrupted);
  Bytes old_format = AccountRecord{}.Serialize();
  old_format[0] = 1;
  EXPECT_EQ(AccountRecord::Parse(old_format).status().code(), Code::kUnsupported);
  Bytes unknown_state = AccountRecord{}.Serialize();
  unknown_state[1] = 9;
  EXPECT_EQ(AccountRecord::Parse(unknown_state).status().code(), Code::kCorrupted);
}

TEST(GuessCounter, NumbersSettlesAndClosesGuesses) {
  GuessCounter c;
  EXPECT_EQ(c.Count(RequestDigest{1}, 100, 10), 1u);
  EXPECT_EQ(c.Count(RequestDigest{2}, 101, 10), 2u);
  EXPECT_EQ(c.Count(RequestDigest{3}, 102, 10), 3u);
  EXPECT_EQ(c.Find(RequestDigest{2}), 2u);
  EXPECT_FALSE(c.Find(RequestDigest{9}).has_value());
  EXPECT_EQ(c.failed(), 3u);
  EXPECT_EQ(c.AttemptsIfWrong(2, 10), 8u);
  EXPECT_TRUE(c.Settle(2));   // guesses 1 and 2 settled; 3 still counts
  EXPECT_FALSE(c.Settle(2));  // once
  EXPECT_FALSE(c.Settle(1));  // never backwards
  EXPECT_FALSE(c.Settle(4));  // never a guess not counted
  EXPECT_EQ(c.failed(), 1u);
  EXPECT_EQ(c.AttemptsLeft(10), 9u);
  EXPECT_TRUE(c.HasOpenGuess(102, std::chrono::seconds(60)));
  EXPECT_FALSE(c.HasOpenGuess(200, std::chrono::seconds(60)));  // expired
  EXPECT_TRUE(c.Close(3));
  EXPECT_FALSE(c.Close(3));
  EXPECT_FALSE(c.HasOpenGuess(102, std::chrono::seconds(60)));
  // Only the newest `keep` requests are remembered.
  for (uint8_t i = 10; i < 20; ++i) c.Count(RequestDigest{i}, 300, 4);
  EXPECT_EQ(c.recent().size(), 4u);
  EXPECT_FALSE(c.Find(RequestDigest{1}).has_value());
  EXPECT_TRUE(c.Find(RequestDigest{19}).has_value());
}

TEST(AccountRecord, TruncationIsCorruption) {
  AccountRecord tomb;
  tomb.state = AccountRecord::State::kTombstone;
  Bytes b = tomb.Serialize();
  b.pop_back();
  EXPECT_FALSE(AccountRecord::Parse(b).ok());
  EXPECT_FALSE(AccountRecord::Parse({}).ok());
}

TEST(RecordSealer, SealedRecordsOpenOnlyUnderTheirKeyAndAccount) {
  RecordSealer sealer(crypto::RandomSecret(32));
  const Bytes plain = ToBytes("record bytes");
  auto sealed = sealer.Seal("acct/alice", plain);
  ASSERT_THAT(sealed, IsOk());
  EXPECT_EQ(sealer.Open("acct/alice", *sealed).value(), plain);
  // Two seals of the same record differ (fresh nonce).
  EXPECT_NE(sealer.Seal("acct/alice", plain).value(), *sealed);
  EXPECT_EQ(sealer.Open("acct/bob", *sealed).status().code(), Code::kCorrupted);
  Bytes flipped = *sealed;
  flipped[flipped.size() / 2] ^= 1;
  EXPECT_EQ(sealer.Open("acct/alice", flipped).status().code(), Code::kCorrupted);
  EXPECT_EQ(RecordSealer(crypto::RandomSecret(32)).Open("acct/alice", *sealed).status().code(),
            Code::kCorrupted);
}

TEST(KeyWrap, OnlyTheSameExportKeyAndAccountUnwrap) {
  key::BackupKey k = key::BackupKey::Generate();
  crypto::Secret export_key = crypto::RandomSecret(64);
  Bytes wrapped = vaultclient::WrapBackupKey(export_key, "alice", k);
  auto back = vaultclient::UnwrapBackupKey(export_key, "alice", wrapped);
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->Hex(), k.Hex());
  EXPECT_FALSE(vaultclient::UnwrapBackupKey(export_key, "bob", wrapped).ok());
  EXPECT_FALSE(vaultclient::UnwrapBackupKey(crypto::RandomSecret(64), "alice", wrapped).ok());
  wrapped[20] ^= 1;
  EXPECT_FALSE(vaultclient::UnwrapBackupKey(export_key, "alice", wrapped).ok());
}

TEST(DeviceKey, IsPerKeyAndAccount) {
  key::BackupKey k = key::BackupKey::Generate();
  auto key_of = [](const key::BackupKey& key, const char* account) {
    return vaultproto::DeviceKey(key, account).verify_key();
  };
  EXPECT_EQ(key_of(k, "alice"), key_of(k, "alice"));
  EXPECT_NE(key_of(k, "alice"), key_of(k, "bob"));
  EXPECT_NE(key_of(k, "alice"), key_of(key::BackupKey::Generate(), "alice"));
}

}  // namespace
}  // namespace chatvault::vault
