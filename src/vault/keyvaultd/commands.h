// keyvaultd's subcommands and what they share: the serve flags, reading the configuration file
// into a subcommand's options, opening the HSM and the store, and reporting a failure as one line.
#pragma once

#include <CLI/CLI.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "chatvault/common/status.h"
#include "chatvault/opaque/ksf.h"
#include "chatvault/vault/hsm.h"
#include "chatvault/vault/http_server.h"
#include "chatvault/vault/server_secrets.h"
#include "chatvault/vaultstore/record_store.h"

namespace chatvault::keyvaultd {

struct HsmFlags {
  std::string module;
  std::string token_label = "chatvault-vault";
  std::string pin_file;  // else $KEYVAULTD_HSM_PIN
};

struct ServeFlags {
  std::string config;
  std::string listen = "127.0.0.1:8443";
  std::string port_file;
  std::string store;
  std::string cert, key;
  HsmFlags hsm;
  std::string token_keys_file;
  uint32_t max_guesses = 10;
  uint32_t ksf_memory_kib = opaque::KsfParams::Default().memory_kib;
  uint32_t ksf_iterations = opaque::KsfParams::Default().iterations;
  int login_ttl = 600;
  std::string audit_log;
  bool audit_sync = false;
  std::string instance_id;
  int threads = 64;
  int io_threads = 0;
  vault::TransportLimits limits;
  double handshake_s = 10, header_s = 10, body_s = 10, write_s = 10, idle_s = 60;
  std::string metrics_token_file;
  std::string metrics_listen;
};

// "keyvaultd: <status>" on stderr; exit status 2 for a usage mistake, else 1.
int Fail(const Status& s);

// Fills the options of `target` that the command line left unset from the configuration file
// at `path`. Every name in the file must be one of `serve`'s flags: an unknown name is an error
// even for a subcommand that takes only some of them (it ignores the rest).
Status ApplyConfigFile(const std::string& path, const CLI::App& serve, CLI::App& target);

// kInvalidArgument naming the first of `flags` given neither on the command line nor in the
// configuration file.
Status RequireFlags(const CLI::App& app, const std::vector<std::string>& flags);

Result<std::unique_ptr<vault::Hsm>> OpenHsm(const HsmFlags& flags);

// The record store and the vault's secrets in it, unwrapped by the HSM: what serve and
// audit-replay work on. The HSM stays open as long as the store.
struct OpenedVault {
  std::unique_ptr<vaultstore::RecordStore> store;
  std::unique_ptr<vault::Hsm> hsm;
  vault::ServerSecrets secrets;
};
// Only serve generates the secrets of a new store; an operator's tool must find them.
enum class NewSecrets { kCreate, kMustExist };
Result<OpenedVault> OpenVault(const std::string& store, const HsmFlags& hsm, NewSecrets secrets);

// "keyvaultd 0.1.0" and the libraries it runs on.
std::string VersionText();

int Serve(const ServeFlags& flags);
int IssueToken(const std::string& keys_file, const std::string& account, int64_t ttl,
               const std::string& key_id);
int BackupStore(const std::string& store, const std::string& to);
int RestoreStore(const std::string& store, const std::string& from);

struct ReplayFlags {
  std::string store;
  HsmFlags hsm;
  std::vector<std::string> audit_logs;
  int64_t since_ms = -1;  // -1: the snapshot time the restored store records, less a margin
  bool dry_run = false;
};
int AuditReplay(const ReplayFlags& flags);

}  // namespace chatvault::keyvaultd
