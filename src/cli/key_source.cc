#include "cli/key_source.h"

#include <filesystem>
#include <iostream>

#include "cli/device_config.h"
#include "cli/terminal.h"

namespace chatvault::cli {
namespace {

Result<key::BackupKey> TypedKey() {
  auto line = ReadLine("Backup key (64 digits): ", /*echo=*/false);
  if (!line) {
    return InvalidArgument("no backup key: pass --key-file FILE or --key \"DIGITS\", or type it");
  }
  return key::BackupKey::Parse(*line);
}

Result<UnlockedKey> KeyFromVault(const Globals& globals, const VaultFlags& flags) {
  CV_ASSIGN_OR_RETURN(VaultSettings settings, flags.Resolve(globals.home));
  CV_ASSIGN_OR_RETURN(auto vault, ConnectVault(settings));
  auto recovered =
      RecoverKey(*vault, settings.account,
                 {"Password for your backup key: ", flags.password_file, kPasswordEnv});
  if (!recovered.ok()) return recovered.status().Annotate("getting the key from the vault");
  for (const std::string& warning : recovered->warnings) {
    std::cerr << "chatvault: warning: " << warning << "\n";
  }
  return UnlockedKey{std::move(recovered->key), std::move(settings), recovered->backup_sequence};
}

Result<UnlockedKey> Unlocked(Result<key::BackupKey> key) {
  if (!key.ok()) return key.status();
  return UnlockedKey{std::move(key).value(), std::nullopt, std::nullopt};
}

}  // namespace

void VaultFlags::Add(CLI::App* cmd, bool with_token) {
  cmd->add_option("--vault", url, "The Backup Key Vault, https://HOST:PORT");
  cmd->add_option("--realms", realms_file,
                  "Keep the key with several independent vaults instead of one: FILE lists them "
                  "and how many must help to recover it (docs/REALMS.md)");
  cmd->add_option("--account", account, "Your chat account id (as the chat service knows it)");
  cmd->add_option("--ca", ca, "Trust only this certificate or CA for the vault (PEM)");
  if (with_token) {
    cmd->add_option("--token", token,
                    "Account token from the chat service (proves you own the account); with "
                    "--realms one for all or one per realm, comma-separated in the file's order");
  }
  cmd->add_option("--password-file", password_file,
                  "Read the (new) password from this file instead of the terminal (for scripts; "
                  "or set CHATVAULT_PASSWORD)");
  cmd->add_flag("--allow-weak-ksf", allow_weak_ksf,
                "Accept a vault's small password-stretching parameters (tests only)")
      ->group("");  // hidden from --help: never for real use
}

Result<VaultSettings> VaultFlags::Resolve(const std::string& home) const {
  if (!url.empty() && !realms_file.empty()) {
    return InvalidArgument("choose one of --vault and --realms");
  }
  VaultSettings s;
  if (auto saved = LoadVaultSettings(home); saved.ok()) s = *saved;
  if (!url.empty()) {
    s.url = url;
    s.realms.clear();
  }
  if (!realms_file.empty()) {
    CV_ASSIGN_OR_RETURN(VaultSettings given, ReadRealmsFile(realms_file));
    s.url.clear();
    s.ca_file.clear();
    s.realms = std::move(given.realms);
    s.threshold = given.threshold;
  }
  if (!account.empty()) s.account = account;
  if (!ca.empty()) {
    if (s.uses_realms()) return InvalidArgument("with --realms, name each realm's CA in the file");
    s.ca_file = std::filesystem::absolute(ca).string();
  }
  s.allow_weak_ksf = s.allow_weak_ksf || allow_weak_ksf;
  if ((s.url.empty() && !s.uses_realms()) || s.account.empty()) {
    return InvalidArgument(
        "which vault and account? pass --vault https://HOST:PORT (or --realms FILE) and "
        "--account ID");
  }
  return s;
}

KeySource KeySource::DeviceKeyFile(const std::string& home) {
  KeySource source;
  source.file = KeyFilePath(home);
  return source;
}

void KeySource::AddFlags(CLI::App* cmd) {
  cmd->add_option("--key-file", file, "A file holding the 64-digit key");
  cmd->add_option("--key", digits, "The 64-digit key (spaces and dashes allowed)");
  cmd->add_flag("--password", password,
                "Get the backup key from the vault with your password (with --vault, --account)");
  vault.Add(cmd, /*with_token=*/false);
}

Result<UnlockedKey> UnlockKey(const Globals& globals, const KeySource& source) {
  const int given = !source.digits.empty() + !source.file.empty() + source.password;
  if (given > 1) return InvalidArgument("choose one of --key, --key-file and --password");
  if (!source.digits.empty()) return Unlocked(key::BackupKey::Parse(source.digits));
  if (!source.file.empty()) return Unlocked(key::ReadKeyFile(source.file));
  if (source.password) return KeyFromVault(globals, source.vault);
  return Unlocked(TypedKey());
}

Result<key::BackupKey> ResolveKey(const Globals& globals, const KeySource& source) {
  CV_ASSIGN_OR_RETURN(UnlockedKey unlocked, UnlockKey(globals, source));
  return std::move(unlocked.key);
}

Result<vaultclient::RecoverResult> RecoverKey(vaultclient::VaultClient& vault,
                                              const std::string& account,
                                              const PasswordInput& input) {
  CV_ASSIGN_OR_RETURN(std::string password, ReadPassword(input.prompt, input.file, input.env_var));
  auto recovered = vault.Recover(account, password);
  WipeString(password);
  return recovered;
}

}  // namespace chatvault::cli
