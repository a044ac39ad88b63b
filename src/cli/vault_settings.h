// Where this device's backup key is kept in the Backup Key Vault: <home>/vault.json, written by
// `chatvault init --password` and read by `password change|reset` and `disable`.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chatvault/common/status.h"
#include "chatvault/vaultclient/vault_client.h"

namespace chatvault::cli {

struct VaultSettings {
  std::string url;      // https://host:port (empty with realms)
  std::string account;  // the chat account id
  std::string ca_file;  // pinned certificate or CA (absolute path); empty: system CAs
  // Threshold recovery (docs/REALMS.md): K is kept by these vaults, `threshold` of which must
  // help, instead of by one vault at `url`.
  std::vector<vaultclient::VaultAddress> realms;
  int threshold = 0;
  bool allow_weak_ksf = false;  // only ever set by tests

  bool uses_realms() const { return !realms.empty(); }
  // "https://host:port", or "2 of 3 realms (https://a, https://b, https://c)".
  std::string Describe() const;
};

// The realms file a user passes with --realms: which vaults keep K and how many must help.
//   {"threshold": 2, "realms": [{"url": "https://a.example:8443", "ca": "a.pem"}, ...]}
// "ca" is optional (system CAs) and relative to the file's directory. kInvalidArgument naming
// what is wrong: 1 to 8 realms, each an https:// URL given once, a threshold from 1 to their
// number.
Result<VaultSettings> ReadRealmsFile(const std::string& path);

// --json fields: "vault" (its URL) or "realms" (their URLs) and "threshold"; "account".
void AddVaultJson(const VaultSettings& settings, nlohmann::json& out);

std::string VaultSettingsPath(const std::string& home);
// kNotFound with a hint when this device does not use the vault.
Result<VaultSettings> LoadVaultSettings(const std::string& home);
// Atomic (temp + fsync + rename), mode 0600.
Status SaveVaultSettings(const std::string& home, const VaultSettings& settings);
Status RemoveVaultSettings(const std::string& home);

// How long a request keeps being retried while the vault is unreachable: a person waiting on a
// password flow gets the client's default; a report that can wait for the next backup, less.
inline constexpr std::chrono::milliseconds kPatientVaultRetry{30'000};
inline constexpr std::chrono::milliseconds kQuickVaultRetry{3'000};

Result<std::unique_ptr<vaultclient::VaultClient>> ConnectVault(
    const VaultSettings& settings, std::chrono::milliseconds retry_for = kPatientVaultRetry);

// Passwords for scripts come from a file or an environment variable; people type them (no echo).
// A new password obeys the rules and, when typed, is typed twice.
Result<std::string> ReadNewPassword(const std::string& file, const char* env_var);
Result<std::string> ReadPassword(const std::string& prompt, const std::string& file,
                                 const char* env_var);
// Overwrites a password held in a string, then empties it.
void WipeString(std::string& s);
// True when the password came from a script (file or environment), not from a person.
bool PasswordFromScript(const std::string& file, const char* env_var);

}  // namespace chatvault::cli
