// What every keyvaultd subcommand shares (commands.h).
#include <openssl/crypto.h>
#include <sodium.h>
#include <sqlite3.h>

#include <boost/version.hpp>
#include <cstdlib>
#include <iostream>

#include "chatvault/common/file.h"
#include "chatvault/vaultstore/store_registry.h"
#include "vault/config_file.h"
#include "vault/keyvaultd/commands.h"

namespace chatvault::keyvaultd {

int Fail(const Status& s) {
  std::cerr << "keyvaultd: " << s.ToString() << "\n";
  return s.code() == Code::kInvalidArgument ? 2 : 1;
}

Status ApplyConfigFile(const std::string& path, const CLI::App& serve, CLI::App& target) {
  auto text = ReadFileToString(path);
  if (!text.ok())
    return InvalidArgument("cannot read the configuration file: " + text.status().message());
  CV_ASSIGN_OR_RETURN(std::vector<vault::ConfigSetting> settings, vault::ParseConfig(*text, path));
  for (const vault::ConfigSetting& setting : settings) {
    const std::string where = path + " line " + std::to_string(setting.line);
    const std::string flag = "--" + setting.name;
    if (setting.name == "config" || setting.name == "help" ||
        serve.get_option_no_throw(flag) == nullptr) {
      return InvalidArgument(where + ": unknown setting '" + setting.name +
                             "' (settings are keyvaultd serve's flags without their dashes)");
    }
    CLI::Option* option = target.get_option_no_throw(flag);
    if (option == nullptr || option->count() > 0) continue;  // not ours, or the command line won
    const bool is_flag = option->get_expected_min() == 0;
    if (is_flag && setting.value != "true" && setting.value != "false") {
      return InvalidArgument(where + ": '" + setting.name + "' is true or false");
    }
    try {
      option->add_result(setting.value);
      option->run_callback();
    } catch (const CLI::Error& e) {
      return InvalidArgument(where + ": " + setting.name + ": " + e.what());
    }
  }
  return OkStatus();
}

Status RequireFlags(const CLI::App& app, const std::vector<std::string>& flags) {
  for (const std::string& flag : flags) {
    const CLI::Option* option = app.get_option_no_throw(flag);
    if (option != nullptr && option->count() == 0) {
      return InvalidArgument(flag + " is required (on the command line, or as '" + flag.substr(2) +
                             "' in the --config file)");
    }
  }
  return OkStatus();
}

Result<std::unique_ptr<vault::Hsm>> OpenHsm(const HsmFlags& flags) {
  std::string pin;
  if (!flags.pin_file.empty()) {
    auto read = ReadFileToString(flags.pin_file);
    if (!read.ok()) return IoError("cannot read the HSM PIN file: " + read.status().message());
    pin = std::move(read).value();
    while (!pin.empty() && (pin.back() == '\n' || pin.back() == '\r')) pin.pop_back();
  } else if (const char* env = std::getenv("KEYVAULTD_HSM_PIN")) {
    pin = env;
  }
  if (pin.empty())
    return InvalidArgument("no HSM PIN: give --hsm-pin-file or set KEYVAULTD_HSM_PIN");
  auto hsm = vault::Hsm::Open({flags.module, flags.token_label, pin});
  if (!hsm.ok()) return hsm.status().Annotate("opening the HSM");
  return hsm;
}

Result<OpenedVault> OpenVault(const std::string& store, const HsmFlags& hsm, NewSecrets secrets) {
  auto opened_store = vaultstore::OpenRecordStore(store);
  if (!opened_store.ok()) return opened_store.status().Annotate("opening the record store");
  CV_ASSIGN_OR_RETURN(std::unique_ptr<vault::Hsm> opened_hsm, OpenHsm(hsm));
  auto loaded = secrets == NewSecrets::kCreate
                    ? vault::LoadOrCreateServerSecrets(**opened_store, *opened_hsm)
                    : vault::LoadServerSecrets(**opened_store, *opened_hsm);
  if (!loaded.ok()) return loaded.status().Annotate("loading the vault's secrets");
  return OpenedVault{std::move(*opened_store), std::move(opened_hsm), std::move(*loaded)};
}

std::string VersionText() {
  std::string stores;
  for (const std::string& scheme : vaultstore::RegisteredStoreSchemes()) {
    stores += (stores.empty() ? "" : ", ") + scheme;
  }
  std::string boost = BOOST_LIB_VERSION;
  for (char& c : boost) c = c == '_' ? '.' : c;
  return std::string("keyvaultd ") + CHATVAULT_VERSION + "\n" + OpenSSL_version(OPENSSL_VERSION) +
         ", SQLite " + sqlite3_libversion() + ", libsodium " + sodium_version_string() +
         ", Boost " + boost + "\nrecord stores: " + stores;
}

}  // namespace chatvault::keyvaultd
