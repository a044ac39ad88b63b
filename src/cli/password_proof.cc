#include "cli/password_proof.h"

#include <iostream>

#include "cli/terminal.h"
#include "cli/vault_settings.h"

namespace chatvault::cli {
namespace {

constexpr int kProofTries = 3;

}  // namespace

Status ProvePassword(vaultclient::VaultClient& vault, const std::string& account,
                     const key::BackupKey& key, const VaultFlags& flags,
                     const std::string& password) {
  const bool scripted = PasswordFromScript(flags.password_file, kPasswordEnv);
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

}  // namespace chatvault::cli
