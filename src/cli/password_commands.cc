// The commands of a device that keeps its backup key K in the Backup Key Vault:
//   password change|reset  store K under a new password (on the original device, which holds K)
//   disable                delete the vault record; K stays on this device as a 64-digit key
// (init --password sets it up, restore --password reads a backup with it.)
#include <iostream>
#include <memory>
#include <optional>

#include "chatvault/key/backup_key.h"
#include "cli/commands.h"
#include "cli/device_config.h"
#include "cli/key_source.h"
#include "cli/password_proof.h"
#include "cli/terminal.h"
#include "cli/vault_settings.h"

namespace chatvault::cli {
namespace {

struct PasswordOptions {
  bool know_old = false;  // change: checks the current password; reset: forgot it
  std::string old_password_file;
  VaultFlags vault;
};

struct PasswordReport : Report {
  std::string account;
  bool changed = false;  // false: reset
};

struct DisableOptions {
  bool yes = false;  // agreed without a terminal to type the key back on
  VaultFlags vault;
};

struct DisableReport : Report {
  std::string account;
  std::optional<key::BackupKey> key;  // shown once: from now on the only way to restore elsewhere
};

// What a command that replaces or deletes the vault record needs: the vault, and K from this
// device as proof that it is the original device.
struct RecordOwner {
  VaultSettings settings;
  std::unique_ptr<vaultclient::VaultClient> vault;
  std::optional<key::BackupKey> key;
};

Result<RecordOwner> OpenRecordOwner(const Globals& g, const VaultFlags& flags,
                                    const std::string& without_token) {
  if (flags.token.empty()) return InvalidArgument(without_token);
  RecordOwner owner;
  CV_ASSIGN_OR_RETURN(owner.settings, flags.Resolve(g.home));
  auto key = ResolveKey(g, KeySource::DeviceKeyFile(g.home));
  if (!key.ok()) {
    return key.status().Annotate(
        "this device has no backup key (this runs on the device that set up backups)");
  }
  owner.key = std::move(*key);
  CV_ASSIGN_OR_RETURN(owner.vault, ConnectVault(owner.settings));
  return owner;
}

// The current password must open the record, and the record must hold this device's K.
Status CheckCurrentPassword(RecordOwner& owner, const PasswordOptions& o) {
  auto got = RecoverKey(*owner.vault, owner.settings.account,
                        {"Current password: ", o.old_password_file, kOldPasswordEnv});
  if (!got.ok()) return got.status().Annotate("checking the current password");
  if (!got->key.secret().Equals(owner.key->secret())) {
    return WrongKey("the vault holds a different backup key than this device");
  }
  return OkStatus();
}

Result<PasswordReport> RunPassword(const Globals& g, const PasswordOptions& o) {
  CV_ASSIGN_OR_RETURN(
      RecordOwner owner,
      OpenRecordOwner(g, o.vault, "this needs --token (an account token from the chat service)"));
  if (o.know_old) CV_RETURN_IF_ERROR(CheckCurrentPassword(owner, o));
  auto password = ChooseNewPassword(o.vault);
  if (!password.ok()) return password.status().Annotate("the password is unchanged");
  const std::string& account = owner.settings.account;
  if (Status s = owner.vault->Register(account, o.vault.token, *password, *owner.key); !s.ok()) {
    return s.Annotate("storing the key under the new password");
  }
  Status proven = ProvePassword(*owner.vault, account, *owner.key, *password);
  WipeString(*password);
  if (!proven.ok()) {
    return Status(proven.code(), proven.message() +
                                     "; the new password is set, but run 'chatvault "
                                     "password reset' if you are unsure of it");
  }
  CV_RETURN_IF_ERROR(SaveVaultSettings(g.home, owner.settings));
  PasswordReport r;
  r.account = account;
  r.changed = o.know_old;
  return r;
}

// The device keeps backing up with K; it is now protected by the 64 digits alone.
Status ForgetVault(const Globals& g) {
  CV_RETURN_IF_ERROR(RemoveVaultSettings(g.home));
  auto config = LoadConfig(g.home);
  if (!config.ok()) return OkStatus();
  config->protection = "key";
  return SaveConfig(g.home, *config);
}

// Deleting the record makes the 64 digits the only way to restore elsewhere: on a terminal the
// user sees them and types them back first (as init --key asks); a script says --yes.
Status AgreeToDisable(const DisableOptions& o, const RecordOwner& owner) {
  if (o.yes) return OkStatus();
  if (!StdinIsTerminal()) {
    return InvalidArgument(
        "disable deletes your backup key from the vault; with no terminal to "
        "confirm on, pass --yes");
  }
  std::cerr << "This deletes your backup key from " << owner.settings.Describe() << " for "
            << owner.settings.account
            << ". Backups go on from this device with the same key,\nbut your password will no "
               "longer restore them: on another device you will need this 64-digit key:\n\n    "
            << owner.key->Display() << "\n\n";
  if (!ProveKeySaved(*owner.key)) {
    return Cancelled("the key was not typed back, so the vault still holds it");
  }
  return OkStatus();
}

Result<DisableReport> RunDisable(const Globals& g, const DisableOptions& o) {
  CV_ASSIGN_OR_RETURN(
      RecordOwner owner,
      OpenRecordOwner(g, o.vault,
                      "disable needs --token (an account token from the chat service)"));
  CV_RETURN_IF_ERROR(AgreeToDisable(o, owner));
  Status s = owner.vault->Delete(owner.settings.account, o.vault.token, *owner.key);
  if (!s.ok() && s.code() != Code::kNotFound) return s.Annotate("deleting the vault record");
  CV_RETURN_IF_ERROR(ForgetVault(g));
  DisableReport r;
  r.account = owner.settings.account;
  r.key = std::move(owner.key);
  return r;
}

nlohmann::json ToJson(const PasswordReport& r) {
  return {{"account", r.account}, {"password", r.changed ? "changed" : "reset"}};
}

void PrintText(const PasswordReport&) {
  std::cout << "The vault now keeps your backup key under the new password.\n";
}

nlohmann::json ToJson(const DisableReport& r) {
  return {{"account", r.account}, {"vault_record", "deleted"}, {"key", r.key->Hex()}};
}

void PrintText(const DisableReport& r) {
  std::cout << "The vault no longer holds your backup key. To restore on another device you now\n"
               "need this 64-digit key; write it down:\n\n    "
            << r.key->Display() << "\n";
}

void AddPasswordSubcommand(CLI::App* password, CommandRunner& runner, bool know_old,
                           const char* name, const char* description) {
  auto [cmd, o] = runner.AddCommand<PasswordOptions>(*password, name, RunPassword, description);
  o->know_old = know_old;
  o->vault.Add(cmd, /*with_token=*/true);
  if (know_old) {
    cmd->add_option("--old-password-file", o->old_password_file,
                    "Read the current password from this file (or set CHATVAULT_OLD_PASSWORD)");
  }
}

}  // namespace

void AddPasswordCommand(CLI::App& app, CommandRunner& runner) {
  CLI::App* password = app.add_subcommand(
      "password", "Change or reset the password that keeps your backup key in the vault");
  password->require_subcommand(1);
  AddPasswordSubcommand(password, runner, /*know_old=*/true, "change",
                        "Choose a new password (asks for the current one; on the original "
                        "device)");
  AddPasswordSubcommand(
      password, runner, /*know_old=*/false, "reset",
      "Forgot the password, or locked out? On the device that set up backups (it still holds "
      "the\nkey), store the key in the vault again under a new password");
}

void AddDisableCommand(CLI::App& app, CommandRunner& runner) {
  auto [cmd, o] = runner.AddCommand<DisableOptions>(
      app, "disable", RunDisable,
      "Delete your backup key from the vault. Backups go on with the key on this device; it is\n"
      "shown as 64 digits, which you then need to restore elsewhere. On a terminal you type\n"
      "them back before anything is deleted; without one, pass --yes");
  cmd->add_flag("--yes", o->yes,
                "Agree without typing the key back (for scripts; a terminal asks for the key)");
  o->vault.Add(cmd, /*with_token=*/true);
}

}  // namespace chatvault::cli
