// The device side of threshold recovery across realms (docs/REALMS.md): the backup key K is kept
// by n independently run vaults, any t of which (and no t-1) can help the right password recover
// it. Each realm counts every guess, as the single vault does.
//
// Requests go to the realms in parallel. A realm that is down or slow does not hold recovery up
// once t others have answered; a realm whose answer fails its proof or signature is named in
// RealmRecovery::complaints and never combined.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chatvault/common/status.h"
#include "chatvault/key/backup_key.h"
#include "chatvault/opaque/ksf.h"
#include "chatvault/vaultclient/vault_client.h"

namespace chatvault::vaultclient {

struct RealmsConfig {
  std::vector<VaultAddress> realms;  // n of them, 1 to 8
  int threshold = 2;                 // t
};

struct RealmRecovery {
  key::BackupKey key;
  uint32_t attempts_remaining = 0;  // the fewest any answering realm has left
  // The highest backup number a device holding K reported, among the realms that released their
  // share (signatures checked; a realm that kept an older number cannot lower it); nullopt when
  // none holds one.
  std::optional<uint64_t> backup_sequence;
  // One sentence per realm that answered wrongly or could not be reached.
  std::vector<std::string> complaints;
};

struct RealmOptions {
  ClientOptions client;
  // The Argon2id the device asks of itself at registration (tests use tiny parameters; a real
  // device the default). At recovery the realms say which were used; weaker than the default is
  // refused unless client.allow_weak_ksf.
  opaque::KsfParams ksf = opaque::KsfParams::Default();
  // Called between a recovery's evaluations and its unlocks (tests stop a realm there).
  std::function<void()> after_evaluate;
};

class RealmClient {
 public:
  static Result<std::unique_ptr<RealmClient>> Connect(const RealmsConfig& config,
                                                      RealmOptions options = {});
  // Over transports of the caller's (tests: realms in process). One transport per realm.
  static Result<std::unique_ptr<RealmClient>> Over(
      std::vector<std::unique_ptr<VaultTransport>> realms, int threshold,
      RealmOptions options = {});
  virtual ~RealmClient() = default;

  // `tokens`: the account token each realm accepts, in the realms' order (realms run by
  // different operators each verify the chat service's tokens with their own key); one token
  // serves every realm.
  //
  // A new registration version on every realm (signed with the device key from `key` where a
  // realm holds one already). kUnavailable naming the realms that did not take it when fewer
  // than all did: run it again to finish (docs/REALMS.md, "Changes under partial failure").
  virtual Status Register(std::string_view account, const std::vector<std::string>& tokens,
                          std::string_view password, const key::BackupKey& key) = 0;
  // kPermissionDenied "wrong password; N attempts remain", or, when the realms answer with
  // versions no t of them share (as they answer for an account they do not hold), "wrong
  // password, or no such account"; kLockedOut when too few realms still hold their share.
  virtual Result<RealmRecovery> Recover(std::string_view account, std::string_view password) = 0;
  // Tells every realm the newest backup this device committed, signed with the device key from
  // `key`; kUnavailable naming the realms that were not told (they keep their older number).
  virtual Status SetBackupSequence(std::string_view account, const key::BackupKey& key,
                                   uint64_t sequence) = 0;
  // Deletes every realm's share; kUnavailable naming those that could not be reached.
  virtual Status Delete(std::string_view account, const std::vector<std::string>& tokens,
                        const key::BackupKey& key) = 0;
  // OK when every realm answers its health check (registration needs all of them);
  // kUnavailable naming those that do not.
  virtual Status Health() = 0;
};

// The realms behind the single vault's interface, for code that serves both (the CLI).
// `token` holds one account token for every realm, or one per realm separated by commas in the
// realms' order. Recover's complaints become RecoverResult::warnings.
std::unique_ptr<VaultClient> AsVaultClient(std::unique_ptr<RealmClient> realms);

}  // namespace chatvault::vaultclient
