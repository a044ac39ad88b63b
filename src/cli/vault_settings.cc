#include "cli/vault_settings.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <nlohmann/json.hpp>

#include "chatvault/common/file.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/vaultclient/realm_client.h"
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

nlohmann::json RealmsJson(const std::vector<vaultclient::VaultAddress>& realms) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& realm : realms) list.push_back({{"url", realm.url}, {"ca_file", realm.ca_file}});
  return list;
}

// The realms as saved in vault.json; false when the list is malformed.
bool ParseSavedRealms(const nlohmann::json& list, std::vector<vaultclient::VaultAddress>& out) {
  if (!list.is_array()) return false;
  for (const auto& item : list) {
    if (!item.is_object() || !item.contains("url") || !item["url"].is_string()) return false;
    out.push_back({item["url"].get<std::string>(), item.value("ca_file", "")});
  }
  return true;
}

}  // namespace

void WipeString(std::string& s) {
  crypto::Wipe({reinterpret_cast<uint8_t*>(s.data()), s.size()});
  s.clear();
}

std::string VaultSettingsPath(const std::string& home) { return home + "/vault.json"; }

std::string VaultSettings::Describe() const {
  if (!uses_realms()) return url;
  std::string urls;
  for (const auto& realm : realms) urls += (urls.empty() ? "" : ", ") + realm.url;
  return std::to_string(threshold) + " of " + std::to_string(realms.size()) + " realms (" + urls +
         ")";
}

Result<VaultSettings> LoadVaultSettings(const std::string& home) {
  auto text = ReadFileToString(VaultSettingsPath(home));
  if (!text.ok()) {
    if (text.status().code() != Code::kNotFound) return text.status();
    return NotFound("this device does not keep its backup key in a vault (no " +
                    VaultSettingsPath(home) + "); set it up with 'chatvault init --password'");
  }
  const Status damaged = Corrupted(VaultSettingsPath(home) + " is damaged");
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("account")) return damaged;
  VaultSettings s;
  s.url = doc.value("url", "");
  s.account = doc.value("account", "");
  s.ca_file = doc.value("ca_file", "");
  s.allow_weak_ksf = doc.value("allow_weak_ksf", false);
  if (doc.contains("realms")) {
    if (!ParseSavedRealms(doc["realms"], s.realms)) return damaged;
    s.threshold = doc.value("threshold", 0);
    if (s.threshold < 1 || static_cast<size_t>(s.threshold) > s.realms.size()) return damaged;
  }
  if (s.url.empty() == s.realms.empty()) return damaged;  // exactly one of them
  return s;
}

Status SaveVaultSettings(const std::string& home, const VaultSettings& s) {
  nlohmann::json doc = {{"version", 1}, {"account", s.account}};
  if (s.uses_realms()) {
    doc["realms"] = RealmsJson(s.realms);
    doc["threshold"] = s.threshold;
  } else {
    doc["url"] = s.url;
    doc["ca_file"] = s.ca_file;
  }
  if (s.allow_weak_ksf) doc["allow_weak_ksf"] = true;
  return WriteFileAtomically(VaultSettingsPath(home), doc.dump(2) + "\n", 0600);
}

void AddVaultJson(const VaultSettings& s, nlohmann::json& out) {
  if (s.uses_realms()) {
    nlohmann::json urls = nlohmann::json::array();
    for (const auto& realm : s.realms) urls.push_back(realm.url);
    out["realms"] = urls;
    out["threshold"] = s.threshold;
  } else {
    out["vault"] = s.url;
  }
  out["account"] = s.account;
}

Result<VaultSettings> ReadRealmsFile(const std::string& path) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return text.status().Annotate("reading the realms file");
  const auto bad = [&](const std::string& what) {
    return InvalidArgument("the realms file " + path + " " + what +
                           " (docs/REALMS.md shows its form)");
  };
  auto doc = nlohmann::json::parse(*text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) return bad("is not a JSON object");
  if (!doc.contains("realms") || !doc["realms"].is_array()) return bad("has no \"realms\" list");
  if (!doc.contains("threshold") || !doc["threshold"].is_number_integer()) {
    return bad("has no whole-number \"threshold\"");
  }
  const std::filesystem::path dir = std::filesystem::absolute(path).parent_path();
  VaultSettings s;
  for (const auto& item : doc["realms"]) {
    if (!item.is_object() || !item.contains("url") || !item["url"].is_string()) {
      return bad("has a realm without a \"url\"");
    }
    vaultclient::VaultAddress realm{item["url"].get<std::string>(), ""};
    if (realm.url.rfind("https://", 0) != 0) return bad("has a realm that is not https://");
    for (const auto& other : s.realms) {
      if (other.url == realm.url) return bad("names " + realm.url + " twice");
    }
    if (item.contains("ca")) {
      if (!item["ca"].is_string()) return bad("has a \"ca\" that is not a file name");
      realm.ca_file = (dir / item["ca"].get<std::string>()).lexically_normal().string();
    }
    s.realms.push_back(std::move(realm));
  }
  if (s.realms.empty() || s.realms.size() > 8) return bad("must list 1 to 8 realms");
  const int64_t threshold = doc["threshold"].get<int64_t>();
  if (threshold < 1 || threshold > static_cast<int64_t>(s.realms.size())) {
    return bad("has a threshold outside 1 to " + std::to_string(s.realms.size()));
  }
  s.threshold = static_cast<int>(threshold);
  return s;
}

Status RemoveVaultSettings(const std::string& home) {
  std::error_code ec;
  std::filesystem::remove(VaultSettingsPath(home), ec);
  if (ec) return IoError("cannot remove " + VaultSettingsPath(home));
  return OkStatus();
}

Result<std::unique_ptr<vaultclient::VaultClient>> ConnectVault(
    const VaultSettings& s, std::chrono::milliseconds retry_for) {
  if (s.url.empty() && !s.uses_realms()) {
    return InvalidArgument("no vault given: pass --vault https://HOST:PORT or --realms FILE");
  }
  if (s.account.empty()) return InvalidArgument("no account given: pass --account ID");
  vaultclient::ClientOptions options;
  options.allow_weak_ksf = s.allow_weak_ksf;
  options.retry_for = retry_for;
  if (!s.uses_realms()) return vaultclient::VaultClient::Connect({s.url, s.ca_file}, options);
  vaultclient::RealmOptions realm_options;
  realm_options.client = options;
  // The device picks the stretching with realms; tests ask for a tiny one (hidden flag).
  if (s.allow_weak_ksf) realm_options.ksf = {opaque::KsfAlgorithm::kArgon2id, 64, 1, 1};
  CV_ASSIGN_OR_RETURN(auto realms,
                      vaultclient::RealmClient::Connect({s.realms, s.threshold}, realm_options));
  return vaultclient::AsVaultClient(std::move(realms));
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
