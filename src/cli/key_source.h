// Where a command gets the backup key K: the one resolver behind --key, --key-file and
// --password (restore, verify, status and the password commands use it).
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "chatvault/common/status.h"
#include "chatvault/key/backup_key.h"
#include "chatvault/vaultclient/vault_client.h"
#include "cli/globals.h"
#include "cli/vault_settings.h"

namespace chatvault::cli {

inline constexpr const char* kPasswordEnv = "CHATVAULT_PASSWORD";
inline constexpr const char* kOldPasswordEnv = "CHATVAULT_OLD_PASSWORD";

// Which vault and account, and where a script's password comes from.
struct VaultFlags {
  std::string url, realms_file, account, ca, token, password_file;
  bool allow_weak_ksf = false;

  // --vault or --realms, --account, --ca, --password-file (and --token when the command changes
  // the record).
  void Add(CLI::App* cmd, bool with_token);
  // The flags over what this device saved (vault.json); kInvalidArgument without a vault and
  // account.
  Result<VaultSettings> Resolve(const std::string& home) const;
};

// A password from a file, an environment variable, or typed at the terminal (no echo).
struct PasswordInput {
  std::string prompt;
  std::string file;
  const char* env_var = kPasswordEnv;
};

// At most one of --key, --key-file and --password; none: the key is typed at the terminal.
struct KeySource {
  std::string digits;     // --key
  std::string file;       // --key-file
  bool password = false;  // --password: recover K from the vault
  VaultFlags vault;

  // The key file of this device's setup.
  static KeySource DeviceKeyFile(const std::string& home);
  bool given() const { return !digits.empty() || !file.empty() || password; }
  // --key-file, --key, --password and the vault flags without --token.
  void AddFlags(CLI::App* cmd);
};

// K, and with --password what the vault said along with it.
struct UnlockedKey {
  key::BackupKey key;
  std::optional<VaultSettings> vault;  // --password: the vault and account that gave K
  // --password: the newest backup a device holding K reported to the vault (signature checked).
  std::optional<uint64_t> vault_sequence;
};

Result<UnlockedKey> UnlockKey(const Globals& globals, const KeySource& source);
Result<key::BackupKey> ResolveKey(const Globals& globals, const KeySource& source);

// An OPAQUE login with the password from `input`; K (and what came with it) once the vault
// accepts it.
Result<vaultclient::RecoverResult> RecoverKey(vaultclient::VaultClient& vault,
                                              const std::string& account,
                                              const PasswordInput& input);

}  // namespace chatvault::cli
