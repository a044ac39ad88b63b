// chatvault init: creates the backup key K on this device and keeps it either as a 64-digit key
// the user writes down (--key) or behind a password in the Backup Key Vault (--password).
// Setup completes only once the user proves they kept it.
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "chatvault/key/backup_key.h"
#include "cli/commands.h"
#include "cli/device_config.h"
#include "cli/key_source.h"
#include "cli/location_check.h"
#include "cli/password_proof.h"
#include "cli/terminal.h"
#include "cli/vault_settings.h"

namespace chatvault::cli {
namespace {

struct InitOptions {
  bool key = false;       // --key
  bool password = false;  // --password
  bool saved = false;     // --i-saved-the-key
  bool confirm = false;   // finish a pending --key setup
  bool force = false;
  bool replace_other_backup = false;  // agree now that the first backup replaces another key's
  std::string data_dir;
  std::string location;
  VaultFlags vault;  // with --password
};

struct InitReport : Report {
  DeviceConfig config;
  std::string key_file;
  std::optional<key::BackupKey> key;  // --key only: the JSON carries it for scripts that keep it
  VaultSettings vault;                // --password only
};

struct ConfirmReport : Report {
  bool already_ready = false;
};

// Both kinds of setup check the same things before a key is made.
Status CheckPreconditions(const Globals& g, const InitOptions& o) {
  if (o.key == o.password) {
    return InvalidArgument(o.key ? "choose one of --key and --password"
                                 : "choose how to keep the backup key: --key (a 64-digit key you "
                                   "write down) or --password (kept in the Backup Key Vault)");
  }
  if (o.data_dir.empty() || o.location.empty()) {
    return InvalidArgument(
        "init needs --data DIR (the chat data) and --to LOCATION (where backups go)");
  }
  if (o.password && o.vault.token.empty()) {
    return InvalidArgument(
        "init --password needs --token (an account token from the chat service)");
  }
  CV_RETURN_IF_ERROR(EnsureHome(g.home));
  if (LoadConfig(g.home).ok() && !o.force) {
    return AlreadyExists("chatvault is already set up in " + g.home +
                         "; use --force to replace that setup and its key");
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(o.data_dir, ec)) {
    return NotFound("the chat data directory " + o.data_dir + " does not exist");
  }
  return OkStatus();
}

DeviceConfig NewConfig(const InitOptions& o, const key::BackupKey& key) {
  DeviceConfig config =
      NewDeviceConfig(o.data_dir, o.location, key, o.password ? "password" : "key");
  config.replace_other_backup = o.replace_other_backup;
  return config;
}

void ShowKeyToWriteDown(const key::BackupKey& key) {
  std::cout << "Your backup key (write it down and keep it somewhere safe; without it your\n"
               "backups cannot be restored, and nobody can recover it for you):\n\n    "
            << key.Display() << "\n\n";
  std::cout.flush();
}

Result<InitReport> SetUpWithKey(const Globals& g, const InitOptions& o, key::BackupKey key) {
  InitReport r;
  r.key_file = KeyFilePath(g.home);
  CV_RETURN_IF_ERROR(key::WriteKeyFile(r.key_file, key));
  r.config = NewConfig(o, key);
  CV_RETURN_IF_ERROR(SaveConfig(g.home, r.config));
  if (!g.json) ShowKeyToWriteDown(key);
  if (o.saved || (!g.json && ProveKeySaved(key))) {
    r.config.state = "ready";
    CV_RETURN_IF_ERROR(SaveConfig(g.home, r.config));
  }
  r.key = std::move(key);
  return r;
}

// An account that already has a record belongs to the devices holding its K; a device without it
// is told where to go instead (exit 6, as a refusal).
Status RegisterNewRecord(vaultclient::VaultClient& vault, const VaultSettings& settings,
                         const InitOptions& o, const std::string& password,
                         const key::BackupKey& key) {
  Status s = vault.Register(settings.account, o.vault.token, password, key);
  if (s.ok()) return s;
  if (s.code() == Code::kAlreadyExists) {
    return PermissionDenied(s.message() +
                            ". On a device that backs up with that key, use 'chatvault password "
                            "reset'; on a new device, restore with 'chatvault restore --password "
                            "--set-up-device', which sets it up with that record");
  }
  return s.Annotate("registering with the vault");
}

// Registers K in the vault and proves the password before anything is saved on this device;
// a record the user cannot open is removed again.
Status StoreKeyInVault(const Globals& g, const InitOptions& o, const VaultSettings& settings,
                       const key::BackupKey& key) {
  CV_ASSIGN_OR_RETURN(auto vault, ConnectVault(settings));
  CV_RETURN_IF_ERROR(vault->Health());
  auto password = ChooseNewPassword(o.vault);
  if (!password.ok()) return password.status().Annotate("nothing was set up");
  if (!g.quiet && !g.json) std::cerr << "Storing the backup key in the vault...\n";
  if (Status s = RegisterNewRecord(*vault, settings, o, *password, key); !s.ok()) {
    WipeString(*password);
    // Realms that took this registration before another failed keep nothing of a setup that
    // did not happen (a new K each run, so a retry could not finish theirs).
    if (settings.uses_realms()) (void)vault->Delete(settings.account, o.vault.token, key);
    return s;
  }
  Status s = ProvePassword(*vault, settings.account, key, *password);
  WipeString(*password);
  if (!s.ok()) {
    (void)vault->Delete(settings.account, o.vault.token, key);
    return Status(s.code(), s.message() + "; nothing was set up, run init again");
  }
  return OkStatus();
}

Result<InitReport> SetUpWithPassword(const Globals& g, const InitOptions& o,
                                     const key::BackupKey& key) {
  InitReport r;
  CV_ASSIGN_OR_RETURN(r.vault, o.vault.Resolve(g.home));
  CV_RETURN_IF_ERROR(StoreKeyInVault(g, o, r.vault, key));
  r.key_file = KeyFilePath(g.home);
  CV_RETURN_IF_ERROR(key::WriteKeyFile(r.key_file, key));
  CV_RETURN_IF_ERROR(SaveVaultSettings(g.home, r.vault));
  r.config = NewConfig(o, key);
  r.config.state = "ready";
  CV_RETURN_IF_ERROR(SaveConfig(g.home, r.config));
  return r;
}

Result<InitReport> RunInit(const Globals& g, const InitOptions& o) {
  CV_RETURN_IF_ERROR(CheckPreconditions(g, o));
  key::BackupKey key = key::BackupKey::Generate();
  CV_RETURN_IF_ERROR(CheckLocationForNewKey(g, o.location, key, o.replace_other_backup));
  return o.password ? SetUpWithPassword(g, o, key) : SetUpWithKey(g, o, std::move(key));
}

Result<ConfirmReport> RunConfirm(const Globals& g) {
  CV_ASSIGN_OR_RETURN(DeviceConfig config, LoadConfig(g.home));
  ConfirmReport r;
  r.already_ready = config.state == "ready";
  if (r.already_ready) return r;
  CV_ASSIGN_OR_RETURN(key::BackupKey key, key::ReadKeyFile(KeyFilePath(g.home)));
  if (!ProveKeySaved(key)) {
    return PermissionDenied(
        "the key was not confirmed; setup stays pending until you run 'chatvault init "
        "--confirm' with the key at hand");
  }
  config.state = "ready";
  CV_RETURN_IF_ERROR(SaveConfig(g.home, config));
  return r;
}

nlohmann::json ToJson(const InitReport& r) {
  nlohmann::json out = {
      {"state", r.config.state},       {"protection", r.config.protection},
      {"key_file", r.key_file},        {"key_fingerprint", r.config.key_fingerprint},
      {"data_dir", r.config.data_dir}, {"location", r.config.location}};
  if (r.key) out["key"] = r.key->Hex();
  if (!r.vault.account.empty()) AddVaultJson(r.vault, out);
  return out;
}

void PrintText(const InitReport& r) {
  if (r.config.protection == "password") {
    std::cout << "Setup is complete. Your backup key is kept in the vault behind your password\n"
                 "(10 wrong guesses destroy it). Back up with 'chatvault backup'.\n";
  } else if (r.config.state == "ready") {
    std::cout << "Setup is complete. Back up with 'chatvault backup'.\n";
  } else {
    std::cout << "Setup is pending: backups start once you confirm the key with "
                 "'chatvault init --confirm'.\n";
  }
}

nlohmann::json ToJson(const ConfirmReport&) { return {{"state", "ready"}}; }

void PrintText(const ConfirmReport& r) {
  std::cout << (r.already_ready ? "Setup is already complete.\n"
                                : "Key confirmed. Setup is complete; run 'chatvault backup'.\n");
}

}  // namespace

void AddInitCommand(CLI::App& app, CommandRunner& runner) {
  auto o = std::make_shared<InitOptions>();
  CLI::App* cmd = app.add_subcommand(
      "init",
      "Set up backups on this device: creates a new 256-bit backup key, shows it as 64 digits,\n"
      "and finishes once you type it back (proof you saved it). The key stays in the state\n"
      "directory (mode 0600) so backups run unattended; restoring elsewhere needs the 64 digits.");
  cmd->add_flag("--key", o->key, "Protect backups with a 64-digit key you write down");
  cmd->add_option("--data", o->data_dir, "The chat data directory (msgstore.db and media)");
  cmd->add_option("--to", o->location,
                  "Where backups go: a directory, file:///path, or a cloud location");
  cmd->add_flag("--i-saved-the-key", o->saved,
                "Skip typing the key back (for scripts that store the key themselves)");
  cmd->add_flag("--confirm", o->confirm, "Finish a pending setup by typing the key back");
  cmd->add_flag("--force", o->force, "Replace an existing setup (and its key) on this device");
  cmd->add_flag("--replace-other-backup", o->replace_other_backup,
                "Let backups replace a backup made with a different key at the location (on a\n"
                "terminal you type REPLACE to agree)");
  cmd->add_flag("--password", o->password,
                "Keep the backup key in the Backup Key Vault behind a password (with --vault, "
                "--account, --token)");
  o->vault.Add(cmd, /*with_token=*/true);
  cmd->callback([&runner, o, &g = runner.globals()] {
    if (o->confirm) {
      runner.Finish(RunConfirm(g));
    } else {
      runner.Finish(RunInit(g, *o));
    }
  });
}

}  // namespace chatvault::cli
