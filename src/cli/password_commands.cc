// The password side of chatvault: the backup key K is kept in the Backup Key Vault behind a
// password (OPAQUE), instead of being written down as 64 digits.
//
//   init --password        create K, register it in the vault, prove the password, set up
//   restore --password     on a new device: recover K from the vault, then restore
//   password change|reset  on the original device (which still holds K)
//   disable                delete the vault record; K stays on this device as a 64-digit key
#include <chrono>
#include <filesystem>
#include <iostream>
#include <memory>

#include "chatvault/backup/engine.h"
#include "chatvault/key/backup_key.h"
#include "chatvault/storage/provider.h"
#include "cli/command_registry.h"
#include "cli/device_config.h"
#include "cli/location_check.h"
#include "cli/terminal.h"
#include "cli/vault_settings.h"

namespace chatvault::cli {
namespace {

constexpr const char* kPasswordEnv = "CHATVAULT_PASSWORD";
constexpr const char* kOldPasswordEnv = "CHATVAULT_OLD_PASSWORD";
constexpr int kProofTries = 3;

// `init` and `restore` are defined in their own files; the password variants add options to
// them and register as their --password variant (command_registry.h).

CLI::App* FindSubcommand(CLI::App& app, const std::string& name) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    if (sub->get_name() == name) return sub;
  }
  return nullptr;
}

struct VaultFlags {
  std::string url, account, ca, token, password_file, old_password_file;
  bool allow_weak_ksf = false;

  void Add(CLI::App* cmd, bool with_token) {
    cmd->add_option("--vault", url, "The Backup Key Vault, https://HOST:PORT");
    cmd->add_option("--account", account, "Your chat account id (as the chat service knows it)");
    cmd->add_option("--ca", ca, "Trust only this certificate or CA for the vault (PEM)");
    if (with_token) {
      cmd->add_option("--token", token,
                      "Account token from the chat service (proves you own the account)");
    }
    cmd->add_option("--password-file", password_file,
                    "Read the (new) password from this file instead of the terminal (for scripts; "
                    "or set CHATVAULT_PASSWORD)");
    cmd->add_flag("--allow-weak-ksf", allow_weak_ksf,
                  "Accept a vault's small password-stretching parameters (tests only)")
        ->group("");  // hidden from --help: never for real use
  }

  // Flags override what this device saved; `need_saved` when there is nothing to fall back to.
  Result<VaultSettings> Resolve(const std::string& home) const {
    VaultSettings s;
    if (auto saved = LoadVaultSettings(home); saved.ok()) s = *saved;
    if (!url.empty()) s.url = url;
    if (!account.empty()) s.account = account;
    if (!ca.empty()) s.ca_file = std::filesystem::absolute(ca).string();
    s.allow_weak_ksf = s.allow_weak_ksf || allow_weak_ksf;
    if (s.url.empty() || s.account.empty()) {
      return InvalidArgument("which vault and account? pass --vault https://HOST:PORT and --account ID");
    }
    return s;
  }
};

// Setup completes only after the user shows they remember the password: a real recover round
// trip against the vault must return K. From a script the given password is used once more.
Status ProvePassword(vaultclient::VaultClient& vault, const std::string& account,
                     const key::BackupKey& key, const VaultFlags& f, const std::string& password) {
  const bool scripted = PasswordFromScript(f.password_file, kPasswordEnv);
  for (int attempt = 1; attempt <= kProofTries; ++attempt) {
    std::string typed = password;
    if (!scripted) {
      auto line = ReadLine("Type the password once more, to prove you remember it: ", false);
      if (!line) return InvalidArgument("the password was not confirmed");
      typed = *line;
    }
    auto got = vault.Recover(account, typed);
    if (got.ok()) {
      if (!got->key.secret().Equals(key.secret())) {
        return Internal("the vault returned a different key than the one just stored");
      }
      return OkStatus();
    }
    if (got.status().code() != Code::kPermissionDenied || scripted) return got.status();
    std::cerr << "That is not the password you chose (" << got.status().message() << ").\n";
  }
  return PermissionDenied("the password was not confirmed");
}

struct InitPasswordArgs {
  bool password = false;
  VaultFlags vault;
};

int InitWithPassword(Globals& g, CLI::App* cmd, const InitPasswordArgs& a) {
  if (cmd->get_option("--key")->count() > 0) {
    return ReportError(g, InvalidArgument("choose one of --key and --password"));
  }
  const std::string data_dir = cmd->get_option("--data")->as<std::string>();
  const std::string location = cmd->get_option("--to")->as<std::string>();
  const bool force = cmd->get_option("--force")->count() > 0;
  if (data_dir.empty() || location.empty()) {
    return ReportError(g, InvalidArgument("init needs --data DIR (the chat data) and --to LOCATION "
                                          "(where backups go)"));
  }
  if (a.vault.token.empty()) {
    return ReportError(g, InvalidArgument("init --password needs --token (an account token from "
                                          "the chat service)"));
  }
  auto settings = a.vault.Resolve(g.home);
  if (!settings.ok()) return ReportError(g, settings.status());
  if (Status s = EnsureHome(g.home); !s.ok()) return ReportError(g, s);
  if (LoadConfig(g.home).ok() && !force) {
    return ReportError(g, AlreadyExists("chatvault is already set up in " + g.home +
                                        "; use --force to replace that setup and its key"));
  }
  std::error_code ec;
  if (!std::filesystem::is_directory(data_dir, ec)) {
    return ReportError(g, NotFound("the chat data directory " + data_dir + " does not exist"));
  }
  // Any new key sees every backup there as another key's, so the check needs no real key yet.
  const bool replace = cmd->get_option("--replace-other-backup")->count() > 0;
  if (Status s = CheckLocationForNewKey(g, location, key::BackupKey::Generate(), replace);
      !s.ok()) {
    return ReportError(g, s);
  }
  auto vault = ConnectVault(*settings);
  if (!vault.ok()) return ReportError(g, vault.status());
  if (Status s = (*vault)->Health(); !s.ok()) return ReportError(g, s);
  auto password = ReadNewPassword(a.vault.password_file, kPasswordEnv);
  if (!password.ok()) return ReportError(g, password.status());

  key::BackupKey key = key::BackupKey::Generate();
  if (!g.quiet && !g.json) std::cerr << "Storing the backup key in the vault...\n";
  if (Status s = (*vault)->Register(settings->account, a.vault.token, *password, key); !s.ok()) {
    if (s.code() == Code::kAlreadyExists) {
      return ReportError(g, PermissionDenied(
                                s.message() + ". On the device that made it, use 'chatvault "
                                "password reset'; elsewhere, restore with 'chatvault restore --password'"));
    }
    return ReportError(g, s.Annotate("registering with the vault"));
  }
  if (Status s = ProvePassword(**vault, settings->account, key, a.vault, *password); !s.ok()) {
    // Nothing half-made stays behind: the record the user cannot open is removed again.
    (void)(*vault)->Delete(settings->account, a.vault.token, key);
    return ReportError(g, Status(s.code(), s.message() + "; nothing was set up, run init again"));
  }
  if (Status s = key::WriteKeyFile(KeyFilePath(g.home), key); !s.ok()) return ReportError(g, s);
  if (Status s = SaveVaultSettings(g.home, *settings); !s.ok()) return ReportError(g, s);
  DeviceConfig config;
  config.state = "ready";
  config.protection = "password";
  config.data_dir = std::filesystem::absolute(data_dir).lexically_normal().string();
  config.location = NormalizeLocation(location);
  config.key_fingerprint = HexEncode(key.Fingerprint());
  config.replace_other_backup = replace;
  config.created_unix = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  if (Status s = SaveConfig(g.home, config); !s.ok()) return ReportError(g, s);
  if (g.json) {
    PrintJson({{"state", "ready"}, {"protection", "password"}, {"vault", settings->url},
               {"account", settings->account}, {"key_fingerprint", config.key_fingerprint},
               {"data_dir", config.data_dir}, {"location", config.location}});
  } else {
    std::cout << "Setup is complete. Your backup key is kept in the vault behind your password\n"
                 "(10 wrong guesses destroy it). Back up with 'chatvault backup'.\n";
  }
  return 0;
}

struct RestorePasswordArgs {
  bool password = false;
  VaultFlags vault;
};

int RestoreWithPassword(Globals& g, CLI::App* cmd, const RestorePasswordArgs& a) {
  if (cmd->get_option("--key")->count() > 0 || cmd->get_option("--key-file")->count() > 0) {
    return ReportError(g, InvalidArgument("choose one of --password and --key/--key-file"));
  }
  const std::string from = cmd->get_option("--from")->as<std::string>();
  const std::string to = cmd->get_option("--to")->as<std::string>();
  auto settings = a.vault.Resolve(g.home);
  if (!settings.ok()) return ReportError(g, settings.status());
  auto vault = ConnectVault(*settings);
  if (!vault.ok()) return ReportError(g, vault.status());
  auto password = ReadPassword("Password for your backup key: ", a.vault.password_file, kPasswordEnv);
  if (!password.ok()) return ReportError(g, password.status());
  auto recovered = (*vault)->Recover(settings->account, *password);
  if (!recovered.ok()) return ReportError(g, recovered.status().Annotate("getting the key from the vault"));

  auto provider = storage::OpenProvider(from);
  if (!provider.ok()) return ReportError(g, provider.status());
  backup::RestoreOptions options;
  options.allow_nonempty = cmd->get_option("--force")->count() > 0;
  ProgressBar bar(!g.quiet && !g.json);
  options.progress = [&bar](const backup::Progress& p) { bar.Update(p); };
  auto summary = backup::RunRestore(**provider, recovered->key, to, options);
  bar.Finish();
  if (!summary.ok()) return ReportError(g, summary.status().Annotate("restore failed"));
  if (g.json) {
    PrintJson({{"sequence", summary->sequence}, {"files", summary->files},
               {"bytes", summary->bytes}, {"seconds", summary->seconds}, {"to", to}});
  } else {
    std::cout << "Restored backup " << summary->sequence << ": " << summary->files << " files, "
              << HumanBytes(summary->bytes) << " into " << to << "; every byte verified.\n";
  }
  return 0;
}

// change: knows the old password; reset: forgot it (or was locked out). Both run on the original
// device, whose copy of K authorises replacing the vault record.
int ChangePassword(Globals& g, const VaultFlags& f, bool know_old) {
  if (f.token.empty()) {
    return ReportError(g, InvalidArgument("this needs --token (an account token from the chat service)"));
  }
  auto settings = f.Resolve(g.home);
  if (!settings.ok()) return ReportError(g, settings.status());
  auto key = key::ReadKeyFile(KeyFilePath(g.home));
  if (!key.ok()) {
    return ReportError(g, key.status().Annotate("this device has no backup key (password reset runs "
                                                "on the device that set up backups)"));
  }
  auto vault = ConnectVault(*settings);
  if (!vault.ok()) return ReportError(g, vault.status());
  if (know_old) {
    auto old = ReadPassword("Current password: ", f.old_password_file, kOldPasswordEnv);
    if (!old.ok()) return ReportError(g, old.status());
    auto got = (*vault)->Recover(settings->account, *old);
    if (!got.ok()) return ReportError(g, got.status().Annotate("checking the current password"));
    if (!got->key.secret().Equals(key->secret())) {
      return ReportError(g, WrongKey("the vault holds a different backup key than this device"));
    }
  }
  auto password = ReadNewPassword(f.password_file, kPasswordEnv);
  if (!password.ok()) return ReportError(g, password.status());
  if (Status s = (*vault)->Register(settings->account, f.token, *password, *key); !s.ok()) {
    return ReportError(g, s.Annotate("storing the key under the new password"));
  }
  if (Status s = ProvePassword(**vault, settings->account, *key, f, *password); !s.ok()) {
    return ReportError(g, Status(s.code(), s.message() + "; the new password is set, but run "
                                            "'chatvault password reset' if you are unsure of it"));
  }
  if (Status s = SaveVaultSettings(g.home, *settings); !s.ok()) return ReportError(g, s);
  if (g.json) {
    PrintJson({{"account", settings->account}, {"password", know_old ? "changed" : "reset"}});
  } else {
    std::cout << "The vault now keeps your backup key under the new password.\n";
  }
  return 0;
}

int Disable(Globals& g, const VaultFlags& f) {
  if (f.token.empty()) {
    return ReportError(g, InvalidArgument("disable needs --token (an account token from the chat service)"));
  }
  auto settings = f.Resolve(g.home);
  if (!settings.ok()) return ReportError(g, settings.status());
  auto key = key::ReadKeyFile(KeyFilePath(g.home));
  if (!key.ok()) return ReportError(g, key.status().Annotate("reading this device's backup key"));
  auto vault = ConnectVault(*settings);
  if (!vault.ok()) return ReportError(g, vault.status());
  Status s = (*vault)->Delete(settings->account, f.token, *key);
  if (!s.ok() && s.code() != Code::kNotFound) return ReportError(g, s.Annotate("deleting the vault record"));
  if (Status r = RemoveVaultSettings(g.home); !r.ok()) return ReportError(g, r);
  if (auto config = LoadConfig(g.home); config.ok()) {
    config->protection = "key";
    if (Status w = SaveConfig(g.home, *config); !w.ok()) return ReportError(g, w);
  }
  if (g.json) {
    PrintJson({{"account", settings->account}, {"vault_record", "deleted"}, {"key", key->Hex()}});
  } else {
    // Without the vault, these digits are the only way to restore on another device.
    std::cout << "The vault no longer holds your backup key. To restore on another device you now\n"
                 "need this 64-digit key; write it down:\n\n    "
              << key->Display() << "\n";
  }
  return 0;
}

const bool kRegistered = RegisterCommands(40, [](CLI::App& app, Globals& g) {
  if (CLI::App* init = FindSubcommand(app, "init")) {
    auto a = std::make_shared<InitPasswordArgs>();
    init->add_flag("--password", a->password,
                   "Keep the backup key in the Backup Key Vault behind a password (with --vault, "
                   "--account, --token)");
    a->vault.Add(init, /*with_token=*/true);
    AddVariant("init", [a] { return a->password; }, [&g, a, init] { return InitWithPassword(g, init, *a); });
  }
  if (CLI::App* restore = FindSubcommand(app, "restore")) {
    auto a = std::make_shared<RestorePasswordArgs>();
    restore->add_flag("--password", a->password,
                      "Get the backup key from the vault with your password (with --vault, --account)");
    a->vault.Add(restore, /*with_token=*/false);
    AddVariant("restore", [a] { return a->password; },
               [&g, a, restore] { return RestoreWithPassword(g, restore, *a); });
  }

  CLI::App* password = app.add_subcommand(
      "password", "Change or reset the password that keeps your backup key in the vault");
  password->require_subcommand(1);
  auto change = std::make_shared<VaultFlags>();
  CLI::App* ch = password->add_subcommand(
      "change", "Choose a new password (asks for the current one; on the original device)");
  change->Add(ch, /*with_token=*/true);
  ch->add_option("--old-password-file", change->old_password_file,
                 "Read the current password from this file (or set CHATVAULT_OLD_PASSWORD)");
  ch->callback([&g, change] { g.exit_code = ChangePassword(g, *change, /*know_old=*/true); });
  auto reset = std::make_shared<VaultFlags>();
  CLI::App* rs = password->add_subcommand(
      "reset",
      "Forgot the password, or locked out? On the device that set up backups (it still holds the\n"
      "key), store the key in the vault again under a new password");
  reset->Add(rs, /*with_token=*/true);
  rs->callback([&g, reset] { g.exit_code = ChangePassword(g, *reset, /*know_old=*/false); });

  auto disable = std::make_shared<VaultFlags>();
  CLI::App* dis = app.add_subcommand(
      "disable",
      "Delete your backup key from the vault. Backups go on with the key on this device; it is\n"
      "shown once as 64 digits, which you then need to restore elsewhere");
  disable->Add(dis, /*with_token=*/true);
  dis->callback([&g, disable] { g.exit_code = Disable(g, *disable); });
});

}  // namespace
}  // namespace chatvault::cli
