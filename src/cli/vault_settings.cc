#include "cli/vault_settings.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "chatvault/common/file.h"
#include "chatvault/crypto/secret.h"
#include "cli/terminal.h"

namespace chatvault::cli {
namespace {

constexpr int kTypingTries = 3;

Result<std::string> ReadPasswordFile(const std::string& path) {
  auto read = ReadFileToString(path);
  if (!read.ok()) return IoError("cannot read the password file: " + read.status().message());
  std::string s = std::move(read).value();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (s.empty()) return InvalidArgument("the password file " + path + " is empty");
  return s;
}

const char* Env(const char* name) {
  const char* v = name ? std::getenv(name) : nullptr;
  return v && *v ? v : nullptr;
}

}  // namespace

void WipeString(std::string& s) {
  crypto::Wipe({reinterpret_cast<uint8_t*>(s.data()), s.size()});
  s.clear();
}

std::string VaultSettingsPath(const std::string& home) { return home + "/vault.json"; }

Result<VaultSettings> LoadVaultSettings(const std::string& home) {
  auto text = ReadFileToString(VaultSettingsPath(home));
  if (!text.ok()) {
    if (text.status().code() != Code::kNotFound) return text.status();
    return NotFound("this device does not keep its backup key in a vault (no " +
                    VaultSettingsPath(home) + "); set it up with 'chatvault init --password'");
  }
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("url") || !doc.contains("account")) {
    return Corrupted(VaultSettingsPath(home) + " is damaged");
  }
  VaultSettings s;
  s.url = doc.value("url", "");
  s.account = doc.value("account", "");
  s.ca_file = doc.value("ca_file", "");
  s.allow_weak_ksf = doc.value("allow_weak_ksf", false);
  return s;
}

Status SaveVaultSettings(const std::string& home, const VaultSettings& s) {
  nlohmann::json doc = {
      {"version", 1}, {"url", s.url}, {"account", s.account}, {"ca_file", s.ca_file}};
  if (s.allow_weak_ksf) doc["allow_weak_ksf"] = true;
  return WriteFileAtomically(VaultSettingsPath(home), doc.dump(2) + "\n", 0600);
}

Status RemoveVaultSettings(const std::string& home) {
  std::error_code ec;
  std::filesystem::remove(VaultSettingsPath(home), ec);
  if (ec) return IoError("cannot remove " + VaultSettingsPath(home));
  return OkStatus();
}

Result<std::unique_ptr<vaultclient::VaultClient>> ConnectVault(
    const VaultSettings& s, std::chrono::milliseconds retry_for) {
  if (s.url.empty()) return InvalidArgument("no vault given: pass --vault https://HOST:PORT");
  if (s.account.empty()) return InvalidArgument("no account given: pass --account ID");
  vaultclient::ClientOptions options;
  options.allow_weak_ksf = s.allow_weak_ksf;
  options.retry_for = retry_for;
  return vaultclient::VaultClient::Connect({s.url, s.ca_file}, options);
}

bool PasswordFromScript(const std::string& file, const char* env_var) {
  return !file.empty() || Env(env_var) != nullptr;
}

Result<std::string> ReadPassword(const std::string& prompt, const std::string& file,
                                 const char* env_var) {
  if (!file.empty()) return ReadPasswordFile(file);
  if (const char* env = Env(env_var)) return std::string(env);
  auto line = ReadLine(prompt, /*echo=*/false);
  if (!line || line->empty()) {
    return InvalidArgument(
        std::string("no password: type it, or pass --password-file FILE or set ") + env_var);
  }
  return *line;
}

Result<std::string> ReadNewPassword(const std::string& file, const char* env_var) {
  if (PasswordFromScript(file, env_var)) {
    CV_ASSIGN_OR_RETURN(std::string p, ReadPassword("", file, env_var));
    CV_RETURN_IF_ERROR(vaultclient::CheckPasswordRules(p));
    return p;
  }
  for (int attempt = 1; attempt <= kTypingTries; ++attempt) {
    CV_ASSIGN_OR_RETURN(std::string first,
                        ReadPassword("New password (at least 6 characters, a letter and a digit): ",
                                     file, env_var));
    if (Status s = vaultclient::CheckPasswordRules(first); !s.ok()) {
      std::cerr << "That password is too weak: " << s.message() << ".\n";
      WipeString(first);
      continue;
    }
    CV_ASSIGN_OR_RETURN(std::string second, ReadPassword("Type it again: ", file, env_var));
    const bool same = crypto::ConstantTimeEqual(AsBytes(first), AsBytes(second));
    WipeString(second);
    if (same) return first;
    WipeString(first);
    std::cerr << "The two passwords differ.\n";
  }
  return InvalidArgument(
      "no new password was chosen (the two entries must match and follow the rules)");
}

}  // namespace chatvault::cli
