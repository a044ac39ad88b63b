// The fixture of the tests that talk to one real keyvaultd (SoftHSM2 token, SQLite store, HTTPS
// on loopback) through the vault client: a vault of the test's own, started before it runs, and
// the account most tests begin with. Each test file says how its client reaches the vault.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "chatvault/key/backup_key.h"
#include "chatvault/vaultclient/vault_client.h"
#include "support/status_matchers.h"
#include "vault/keyvaultd_process.h"

namespace chatvault::testing {

class KeyvaultdFixture : public ::testing::Test {
 public:
  // The password "alice" registers with, and a wrong guess at it.
  static constexpr const char* kPassword = "correct horse 42";
  static constexpr const char* kWrong = "wrong guess 7";

 protected:
  void SetUp() override { ASSERT_EQ(vault_.Start(), ""); }

  // A client of vault_ that accepts its test-sized Argon2id parameters.
  virtual std::unique_ptr<vaultclient::VaultClient> Client() = 0;

  // Registers "alice" with kPassword; returns the key the vault now guards for her.
  key::BackupKey RegisterAlice() {
    key::BackupKey k = key::BackupKey::Generate();
    EXPECT_THAT(Client()->Register("alice", vault_.Token("alice"), kPassword, k), IsOk());
    return k;
  }

  KeyvaultdProcess vault_;
};

}  // namespace chatvault::testing
