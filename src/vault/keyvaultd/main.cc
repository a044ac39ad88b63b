// keyvaultd: the Backup Key Vault daemon (serve), and the operator's tools: account tokens,
// backing up and restoring the store, replaying the audit log after a restore.
#include <CLI/CLI.hpp>

#include <iostream>

#include "vault/keyvaultd/commands.h"

namespace {

using namespace chatvault;
using namespace chatvault::keyvaultd;

constexpr const char* kConfigHelp =
    "Read settings from FILE: one 'name = value' per line, names are serve's flags without "
    "their dashes; a flag given here wins over the file (docs/OPERATIONS.md)";

// The transport's limits (docs/OPERATIONS.md says why each default is what it is).
void AddLimitFlags(CLI::App& serve, ServeFlags& f) {
  const auto positive = CLI::Range(0.1, 86400.0);
  vault::TransportLimits& l = f.limits;
  serve.add_option("--max-body-bytes", l.max_body_bytes,
                   "Largest request body, for every transfer encoding (413 beyond)")
      ->capture_default_str()->check(CLI::Range(size_t{1024}, size_t{1} << 24));
  serve.add_option("--max-header-bytes", l.max_header_bytes, "Largest request header (431 beyond)")
      ->capture_default_str()->check(CLI::Range(size_t{1024}, size_t{1} << 20));
  serve.add_option("--max-header-fields", l.max_header_fields,
                   "Most header fields in a request (431 beyond)")
      ->capture_default_str()->check(CLI::Range(size_t{8}, size_t{10000}));
  serve.add_option("--max-connections", l.max_connections,
                   "Open connections in total; at the cap the longest-idle kept-alive one is "
                   "closed, else the new one is reset")
      ->capture_default_str()->check(CLI::Range(size_t{1}, size_t{1} << 20));
  serve.add_option("--max-connections-per-address", l.max_connections_per_address,
                   "Open connections per client IPv4 address or IPv6 /64")
      ->capture_default_str()->check(CLI::Range(size_t{1}, size_t{1} << 20));
  serve.add_option("--max-queued-requests", l.max_queued_requests,
                   "Requests waiting for a worker; beyond, 503 with Retry-After")
      ->capture_default_str()->check(CLI::Range(size_t{0}, size_t{1} << 20));
  serve.add_option("--max-requests-per-connection", l.max_requests_per_connection,
                   "Requests on one kept-alive connection before it is closed")
      ->capture_default_str()->check(CLI::Range(size_t{1}, size_t{1} << 30));
  serve.add_option("--handshake-timeout", f.handshake_s, "Seconds from accept to the end of TLS")
      ->capture_default_str()->check(positive);
  serve.add_option("--header-timeout", f.header_s,
                   "Seconds for a whole request header, from its first byte")
      ->capture_default_str()->check(positive);
  serve.add_option("--body-timeout", f.body_s, "Seconds for a whole request body")
      ->capture_default_str()->check(positive);
  serve.add_option("--write-timeout", f.write_s, "Seconds for a whole reply")
      ->capture_default_str()->check(positive);
  serve.add_option("--idle-timeout", f.idle_s,
                   "Seconds a kept-alive connection may wait for its next request")
      ->capture_default_str()->check(positive);
}

void AddHsmFlags(CLI::App& app, HsmFlags& hsm) {
  app.add_option("--pkcs11-module", hsm.module, "PKCS#11 module, e.g. the SoftHSM2 library")
      ->check(CLI::ExistingFile);
  app.add_option("--hsm-token", hsm.token_label, "Label of the HSM token")->capture_default_str();
  app.add_option("--hsm-pin-file", hsm.pin_file,
                 "File holding the token's user PIN (else $KEYVAULTD_HSM_PIN)");
}

void AddStoreFlag(CLI::App& app, std::string& store) {
  app.add_option("--store", store,
                 "Record store: sqlite:PATH (embedded) or etcd://HOST:PORT,... (replicated)");
}

// A subcommand that works on the record store: its --config file and --store, as serve's.
CLI::App* AddStoreCommand(CLI::App& app, const std::string& name, const std::string& description,
                          std::string& config, std::string& store) {
  CLI::App* command = app.add_subcommand(name, description);
  command->add_option("--config", config, kConfigHelp)->check(CLI::ExistingFile);
  AddStoreFlag(*command, store);
  return command;
}

void AddServeFlags(CLI::App& serve, ServeFlags& f) {
  serve.add_option("--config", f.config, kConfigHelp)->check(CLI::ExistingFile);
  serve.add_option("--listen", f.listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  serve.add_option("--port-file", f.port_file, "Write the bound port here once listening");
  AddStoreFlag(serve, f.store);
  serve
      .add_option("--tls-cert", f.cert,
                  "TLS certificate chain (PEM); clients pin it or its CA. Reloaded on SIGHUP")
      ->check(CLI::ExistingFile);
  serve.add_option("--tls-key", f.key, "TLS private key (PEM). Reloaded on SIGHUP")
      ->check(CLI::ExistingFile);
  AddHsmFlags(serve, f.hsm);
  serve.add_option("--token-keys-file,--token-secret-file", f.token_keys_file,
                   "Keys shared with the chat service for account tokens: '<id> <secret>' per "
                   "line, the first one issues (docs/API.md). Reloaded on SIGHUP");
  serve.add_option("--max-guesses", f.max_guesses, "Wrong passwords before a record is destroyed")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  serve
      .add_option("--ksf-memory-kib", f.ksf_memory_kib,
                  "Argon2id memory (KiB) asked of registering clients; small values only for tests")
      ->capture_default_str();
  serve.add_option("--ksf-iterations", f.ksf_iterations, "Argon2id passes asked of clients")
      ->capture_default_str();
  serve
      .add_option("--login-ttl", f.login_ttl,
                  "Seconds a client may take between the two requests of a login (its password "
                  "stretching on a slow phone); the same bound applies to registration challenges")
      ->capture_default_str()
      ->check(CLI::Range(10, 3600));
  serve.add_option("--audit-log", f.audit_log,
                   "Append one JSON line per security event to FILE ('-': stdout); each is "
                   "written before the client hears of the event. Reopened on SIGHUP");
  serve.add_flag("--audit-sync", f.audit_sync,
                 "Also fdatasync each audit line, so it survives a power cut, not only a crash");
  serve.add_option("--instance-id", f.instance_id,
                   "This instance's name in the audit log (default: host name and --listen)");
  serve
      .add_option("--threads", f.threads,
                  "Requests handled at once (workers; each may wait for the record store)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1024));
  serve
      .add_option("--io-threads", f.io_threads,
                  "Threads doing TLS and HTTP for every connection (0: one per core it may run on)")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  AddLimitFlags(serve, f);
  serve
      .add_option("--metrics-token-file", f.metrics_token_file,
                  "GET /metrics requires 'Authorization: Bearer <first line of this file>'")
      ->check(CLI::ExistingFile);
  serve.add_option("--metrics-listen", f.metrics_listen,
                   "Serve /metrics on this HOST:PORT only (HTTPS, same certificate), not on "
                   "--listen. Without this flag or a token, /metrics is off");
}

// The settings of a subcommand's --config file, then the flags it cannot run without.
Status Complete(const std::string& config, const CLI::App& serve, CLI::App& command,
                const std::vector<std::string>& required) {
  if (!config.empty()) CV_RETURN_IF_ERROR(ApplyConfigFile(config, serve, command));
  return RequireFlags(command, required);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "keyvaultd: the chatvault Backup Key Vault. Keeps each account's backup key wrapped under\n"
      "its password (OPAQUE), counts every guess durably and destroys the record after the limit.",
      "keyvaultd"};
  app.set_version_flag("--version", VersionText());
  app.require_subcommand(1);

  ServeFlags f;
  CLI::App* serve = app.add_subcommand("serve", "Run the vault's HTTPS API (docs/API.md)");
  AddServeFlags(*serve, f);

  std::string keys_file, account, key_id, issue_config;
  int64_t ttl = 3600;
  CLI::App* issue = app.add_subcommand(
      "issue-token", "Print an account token (what the chat service hands a logged-in user)");
  issue->add_option("--config", issue_config, kConfigHelp)->check(CLI::ExistingFile);
  issue->add_option("--token-keys-file,--token-secret-file", keys_file,
                    "The token keys file keyvaultd was given");
  issue->add_option("--account", account, "Account id the token is for")->required();
  issue->add_option("--ttl", ttl, "Seconds until the token expires")->capture_default_str();
  issue->add_option("--key-id", key_id, "Sign with this key (default: the file's first)");

  std::string backup_config, backup_store, backup_to;
  CLI::App* backup = AddStoreCommand(app, "backup-store",
                                     "Copy the SQLite record store while the vault serves (one "
                                     "consistent snapshot, SQLite's online backup API)",
                                     backup_config, backup_store);
  backup->add_option("--to", backup_to, "The new backup file (never replaces one)")->required();

  std::string restore_config, restore_store, restore_from;
  CLI::App* restore = AddStoreCommand(app, "restore-store",
                                      "Put a backup in place of the SQLite record store (the "
                                      "vault stopped); then run audit-replay",
                                      restore_config, restore_store);
  restore->add_option("--from", restore_from, "The backup file from backup-store")
      ->required()
      ->check(CLI::ExistingFile);

  ReplayFlags replay_flags;
  std::string replay_config;
  CLI::App* replay = AddStoreCommand(app, "audit-replay",
                                     "After a restore: destroy, delete and raise the counters of "
                                     "the records as the audit log says happened since the "
                                     "snapshot",
                                     replay_config, replay_flags.store);
  AddHsmFlags(*replay, replay_flags.hsm);
  replay
      ->add_option("--audit-log", replay_flags.audit_logs,
                   "Audit log files of every instance (rotated ones too)")
      ->required()
      ->check(CLI::ExistingFile);
  replay->add_option("--since", replay_flags.since_ms,
                     "Replay lines from this time_ms on (default: the snapshot time a store "
                     "restored by restore-store records, less a minute)");
  replay->add_flag("--dry-run", replay_flags.dry_run, "Say what would change; write nothing");

  CLI11_PARSE(app, argc, argv);
  Status ready;
  if (*serve) {
    ready =
        Complete(f.config, *serve, *serve,
                 {"--store", "--tls-cert", "--tls-key", "--pkcs11-module", "--token-keys-file"});
    return ready.ok() ? Serve(f) : Fail(ready);
  }
  if (*issue) {
    ready = Complete(issue_config, *serve, *issue, {"--token-keys-file"});
    return ready.ok() ? IssueToken(keys_file, account, ttl, key_id) : Fail(ready);
  }
  if (*backup) {
    ready = Complete(backup_config, *serve, *backup, {"--store"});
    return ready.ok() ? BackupStore(backup_store, backup_to) : Fail(ready);
  }
  if (*restore) {
    ready = Complete(restore_config, *serve, *restore, {"--store"});
    return ready.ok() ? RestoreStore(restore_store, restore_from) : Fail(ready);
  }
  ready = Complete(replay_config, *serve, *replay, {"--store", "--pkcs11-module"});
  return ready.ok() ? AuditReplay(replay_flags) : Fail(ready);
}
