// What t-1 colluding realms can do with everything they hold. The test takes the full state of
// t-1 realms (every record of their stores, unsealed with their own server secrets, as an
// operator with the HSM would) and runs every offline check that state allows, for the right
// password and for a wrong one: none tells them apart. As a control, the same checks with t
// realms' state do tell the right password (so the checks are not blind).
#include <gtest/gtest.h>

#include <map>

#include "chatvault/crypto/secret.h"
#include "chatvault/opaque/threshold_oprf.h"
#include "chatvault/vaultproto/realm_protocol.h"
#include "support/status_matchers.h"
#include "vault/in_process_realms.h"
#include "vault/realm_record.h"
#include "vault/sealed_box.h"

namespace chatvault::vault {
namespace {

using ::chatvault::testing::InProcessRealms;
using ::chatvault::testing::IsOk;
namespace realm = vaultproto::realm;

constexpr const char* kRight = "correct horse 42";
constexpr const char* kWrong = "correct horse 43";

// A realm's record for alice, as its operator sees it with the realm's own secrets.
RealmRecord Unsealed(InProcessRealms::Realm& r) {
  auto got = r.store.Get(RealmStoreKey("alice"));
  EXPECT_TRUE(got.ok() && got->has_value());
  RecordSealer sealer(VaultKeys::Derive(r.master).record.Clone());
  auto plain = sealer.Open(RealmStoreKey("alice"), (*got)->value);
  EXPECT_THAT(plain, IsOk());
  auto record = RealmRecord::Parse(*plain);
  EXPECT_THAT(record, IsOk());
  return *record;
}

// Everything an attacker holding `records` can check about `password`, offline.
std::map<std::string, bool> OfflineChecks(const std::vector<RealmRecord>& records,
                                          const std::string& password) {
  const realm::RealmShare& any = records.front().share;
  std::map<std::string, bool> checks;
  auto stretched = realm::StretchPassword(password, "alice", any.version, any.ksf);
  EXPECT_THAT(stretched, IsOk());
  // Interpolate the OPRF key and the encryption scalar from the shares held, as if enough.
  std::vector<opaque::ScalarShare> k_shares, e_shares;
  for (const RealmRecord& r : records) {
    k_shares.push_back({r.share.index, crypto::Secret::FromBytes(r.share.oprf_share)});
    e_shares.push_back({r.share.index, crypto::Secret::FromBytes(r.share.encryption_share)});
  }
  auto k = opaque::CombineScalars(k_shares);
  auto e = opaque::CombineScalars(e_shares);
  EXPECT_THAT(k, IsOk());
  EXPECT_THAT(e, IsOk());
  auto output = opaque::EvaluateDirectly(*k, stretched->access_key.view());
  EXPECT_THAT(output, IsOk());
  const realm::UnlockSecrets unlock = realm::DeriveUnlock(*output);
  checks["commitment"] = unlock.commitment == any.commitment;
  bool tags = true, macs = true;
  for (const RealmRecord& r : records) {
    tags &=
        realm::UnlockTag(unlock.unlock_key, r.share.version, r.share.index) == r.share.unlock_tag;
    macs &= realm::ShareMac(unlock.unlock_key, r.share.version, r.share.index,
                            r.share.encryption_share, r.share.wrapped_key) == r.share.share_mac;
  }
  checks["unlock tags"] = tags;
  checks["share macs"] = macs;
  checks["wrapped key opens"] =
      realm::UnwrapKey(stretched->encryption_seed, *e, "alice", any.version, any.wrapped_key).ok();
  // Anything password-derived stored as it is.
  bool found = false;
  for (const RealmRecord& r : records) {
    const Bytes bytes = r.Serialize();
    for (const crypto::Secret* secret : {&stretched->access_key, &stretched->encryption_seed}) {
      found |= std::search(bytes.begin(), bytes.end(), secret->data(),
                           secret->data() + secret->size()) != bytes.end();
    }
  }
  checks["stretched password stored"] = found;
  return checks;
}

class Collusion : public ::testing::TestWithParam<std::pair<int, int>> {};

TEST_P(Collusion, FewerThanTRealmsCannotTellTheRightPassword) {
  const auto [t, n] = GetParam();
  InProcessRealms realms(n);
  ASSERT_THAT(realms.Client(t)->Register("alice", {realms.Token("alice")}, kRight,
                                         key::BackupKey::Generate()),
              IsOk());
  std::vector<RealmRecord> state;
  for (int i = 0; i < t - 1; ++i) state.push_back(Unsealed(realms.realm(i)));
  const auto right = OfflineChecks(state, kRight);
  const auto wrong = OfflineChecks(state, kWrong);
  EXPECT_EQ(right, wrong);
  for (const auto& [name, passed] : right) EXPECT_FALSE(passed) << name;

  // Control: with t realms' state the same checks single out the right password.
  state.push_back(Unsealed(realms.realm(t - 1)));
  const auto right_t = OfflineChecks(state, kRight);
  const auto wrong_t = OfflineChecks(state, kWrong);
  EXPECT_TRUE(right_t.at("commitment"));
  EXPECT_TRUE(right_t.at("wrapped key opens"));
  EXPECT_FALSE(wrong_t.at("commitment"));
}

INSTANTIATE_TEST_SUITE_P(Sharings, Collusion, ::testing::Values(std::pair{2, 3}, std::pair{3, 5}));

}  // namespace
}  // namespace chatvault::vault
