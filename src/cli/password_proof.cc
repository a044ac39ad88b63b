#include "cli/password_proof.h"

#include <iostream>

#include "chatvault/common/bytes.h"
#include "chatvault/crypto/secret.h"
#include "cli/terminal.h"
#include "cli/vault_settings.h"

namespace chatvault::cli {
namespace {

constexpr int kRecallTries = 3;

bool SameText(const std::string& a, const std::string& b) {
  return crypto::ConstantTimeEqual(AsBytes(a), AsBytes(b));
}

// The third typing, compared here: a person who cannot type it again would not pass the vault.
Status RecallOnDevice(const std::string& password) {
  for (int attempt = 1; attempt <= kRecallTries; ++attempt) {
    auto line = ReadLine("Type the password once more, to prove you remember it: ", false);
    if (!line) break;
    const bool same = SameText(*line, password);
    WipeString(*line);
    if (same) return OkStatus();
    std::cerr << "That is not the password you chose; nothing was sent to the vault";
    if (attempt < kRecallTries) std::cerr << " (" << kRecallTries - attempt << " tries left)";
    std::cerr << ".\n";
  }
  return InvalidArgument("the new password was not confirmed, so it was not stored");
}

}  // namespace

Result<std::string> ChooseNewPassword(const VaultFlags& flags) {
  CV_ASSIGN_OR_RETURN(std::string password, ReadNewPassword(flags.password_file, kPasswordEnv));
  if (PasswordFromScript(flags.password_file, kPasswordEnv)) return password;
  if (Status s = RecallOnDevice(password); !s.ok()) {
    WipeString(password);
    return s;
  }
  return password;
}

Status ProvePassword(vaultclient::VaultClient& vault, const std::string& account,
                     const key::BackupKey& key, const std::string& password) {
  auto got = vault.Recover(account, password);
  if (!got.ok()) return got.status().Annotate("logging in with the new password");
  if (!got->key.secret().Equals(key.secret())) {
    return Internal("the vault returned a different key than the one just stored");
  }
  return OkStatus();
}

}  // namespace chatvault::cli
