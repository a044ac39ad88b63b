// keyvaultd: the Backup Key Vault daemon (serve), and the operator's token tool (issue-token).
#include <CLI/CLI.hpp>
#include <malloc.h>
#include <sys/resource.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <thread>

#include <unistd.h>

#include "chatvault/common/file.h"
#include "chatvault/vault/account_token.h"
#include "chatvault/vault/audit_log.h"
#include "chatvault/vault/hsm.h"
#include "chatvault/vault/realm_service.h"
#include "chatvault/vault/http_server.h"
#include "chatvault/vault/server_secrets.h"
#include "chatvault/vault/vault_service.h"
#include "chatvault/vaultstore/store_registry.h"

namespace {

using namespace chatvault;

struct ServeFlags {
  std::string listen = "127.0.0.1:8443";
  std::string port_file;
  std::string store;
  std::string cert, key;
  std::string module, token_label = "chatvault-vault", pin_file;
  std::string token_secret_file;
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

int Fail(const Status& s) {
  std::cerr << "keyvaultd: " << s.ToString() << "\n";
  return s.code() == Code::kInvalidArgument ? 2 : 1;
}

Result<std::string> ReadSmallFile(const std::string& path, const char* what) {
  auto read = ReadFileToString(path);
  if (!read.ok()) {
    return IoError(std::string("cannot read the ") + what + " file: " + read.status().message());
  }
  std::string s = std::move(read).value();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// Written whole and renamed into place, so a test polling for it never reads half a number.
Status WritePortFile(const std::string& path, int port) {
  return WriteFileAtomically(path, std::to_string(port) + "\n", 0644);
}

// "HOST:PORT", "[IPv6]:PORT"; the host keeps its brackets (the listener strips them).
Status ParseListen(const std::string& text, const char* flag, std::string& host, int& port) {
  const size_t colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return InvalidArgument(std::string(flag) + " wants HOST:PORT");
  }
  host = text.substr(0, colon);
  try {
    size_t used = 0;
    port = std::stoi(text.substr(colon + 1), &used);
    if (used != text.size() - colon - 1 || port < 0 || port > 65535) throw std::out_of_range("");
  } catch (...) {
    return InvalidArgument(std::string(flag) + " wants HOST:PORT with a port from 0 to 65535");
  }
  return OkStatus();
}

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

// Every connection is a file descriptor: take the hard limit, and say so when even that is too
// small for --max-connections (the store, the HSM and the listeners need a few more).
void RaiseFileLimit(size_t connections) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  constexpr size_t kOtherFiles = 128;
  if (limit.rlim_cur != RLIM_INFINITY && connections + kOtherFiles > limit.rlim_cur) {
    std::cerr << "keyvaultd: warning: --max-connections " << connections << " needs about "
              << connections + kOtherFiles << " open files but the limit is " << limit.rlim_cur
              << "; connections beyond it wait in the listen queue (raise LimitNOFILE)\n";
  }
}

std::string MetricsMode(const vault::HttpServerOptions& http, int metrics_port) {
  const char* token = http.metrics_token_file.empty() ? "" : " with a bearer token";
  if (metrics_port >= 0) {
    return std::string("on https://") + http.metrics_host + ":" + std::to_string(metrics_port) +
           " only" + token;
  }
  if (!http.metrics_token_file.empty()) return "on the API listener with a bearer token";
  return "off (give --metrics-token-file or --metrics-listen)";
}

// host name and listen address: unique per process in a fleet, stable across restarts.
std::string DefaultInstanceId(const std::string& listen) {
  char host[256] = {0};
  if (::gethostname(host, sizeof host - 1) != 0) host[0] = 0;
  return std::string(host) + "/" + listen;
}

int Serve(const ServeFlags& f) {
  // glibc hands freed memory at the top of each thread's arena back to the kernel as soon as it
  // exceeds 128 KiB; with dozens of connection threads that madvise() ran on every few requests
  // and each one flushed the TLBs of every core. Keep up to 64 MiB per arena instead.
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
  // Signals are taken by one thread with sigwait, so every other thread starts with them blocked.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  vault::HttpServerOptions http;
  if (Status s = ParseListen(f.listen, "--listen", http.host, http.port); !s.ok()) return Fail(s);
  if (!f.metrics_listen.empty()) {
    Status s =
        ParseListen(f.metrics_listen, "--metrics-listen", http.metrics_host, http.metrics_port);
    if (!s.ok()) return Fail(s);
  }
  http.cert_file = f.cert;
  http.key_file = f.key;
  http.threads = f.threads;
  http.io_threads = f.io_threads;
  http.limits = f.limits;
  http.limits.handshake_timeout = Millis(f.handshake_s);
  http.limits.header_timeout = Millis(f.header_s);
  http.limits.body_timeout = Millis(f.body_s);
  http.limits.write_timeout = Millis(f.write_s);
  http.limits.idle_timeout = Millis(f.idle_s);
  http.metrics_token_file = f.metrics_token_file;
  RaiseFileLimit(f.limits.max_connections);

  auto pin = f.pin_file.empty() ? Result<std::string>(std::string(std::getenv("KEYVAULTD_HSM_PIN")
                                                                       ? std::getenv("KEYVAULTD_HSM_PIN")
                                                                       : ""))
                                : ReadSmallFile(f.pin_file, "HSM PIN");
  if (!pin.ok()) return Fail(pin.status());
  if (pin->empty()) return Fail(InvalidArgument("no HSM PIN: give --hsm-pin-file or set KEYVAULTD_HSM_PIN"));
  auto token_secret = vault::ReadTokenSecretFile(f.token_secret_file);
  if (!token_secret.ok()) return Fail(token_secret.status());

  auto store = vaultstore::OpenRecordStore(f.store);
  if (!store.ok()) return Fail(store.status().Annotate("opening the record store"));
  auto hsm = vault::Hsm::Open({f.module, f.token_label, *pin});
  if (!hsm.ok()) return Fail(hsm.status().Annotate("opening the HSM"));
  auto secrets = vault::LoadOrCreateServerSecrets(**store, **hsm);
  if (!secrets.ok()) return Fail(secrets.status().Annotate("loading the vault's secrets"));

  vault::VaultOptions options;
  options.max_guesses = f.max_guesses;
  options.ksf.memory_kib = f.ksf_memory_kib;
  options.ksf.iterations = f.ksf_iterations;
  options.login_ttl = std::chrono::seconds(f.login_ttl);
  options.challenge_ttl = options.login_ttl;
  if (Status s = options.ksf.Validate(); !s.ok()) return Fail(s.Annotate("--ksf-*"));
  std::unique_ptr<vault::JsonLinesAuditLog> audit;
  if (!f.audit_log.empty()) {
    auto opened = vault::JsonLinesAuditLog::Open(
        f.audit_log, f.audit_sync, vault::VaultService::AuditAccountKey(secrets->sealing_key),
        f.instance_id.empty() ? DefaultInstanceId(f.listen) : f.instance_id);
    if (!opened.ok()) return Fail(opened.status());
    audit = std::move(*opened);
  }
  vault::Metrics metrics;
  vault::RealmService realm(**store, secrets->sealing_key, token_secret->Clone(), options, metrics,
                            audit.get());
  vault::VaultService service(**store, std::move(secrets->setup), secrets->sealing_key,
                              std::move(*token_secret), options, metrics, audit.get());
  auto server = vault::HttpServer::Create(service, &realm, metrics, http);
  if (!server.ok()) return Fail(server.status());
  const int port = (*server)->BoundPort();
  if (!f.port_file.empty()) {
    if (Status s = WritePortFile(f.port_file, port); !s.ok()) return Fail(s);
  }
  std::cerr << "keyvaultd: listening on https://" << http.host << ":" << port << " (store "
            << f.store.substr(0, f.store.find(':')) << ", up to " << f.max_guesses
            << " guesses per record)\n";
  std::cerr << "keyvaultd: /metrics " << MetricsMode(http, (*server)->BoundMetricsPort()) << "\n";

  std::thread waiter([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    (*server)->Stop();
  });
  Status run = (*server)->Run();
  pthread_kill(waiter.native_handle(), SIGTERM);  // wakes the waiter if the server stopped alone
  waiter.join();
  std::cerr << "keyvaultd: stopped\n";
  return run.ok() ? 0 : Fail(run);
}

int IssueToken(const std::string& secret_file, const std::string& account, int64_t ttl) {
  auto secret = vault::ReadTokenSecretFile(secret_file);
  if (!secret.ok()) return Fail(secret.status());
  auto token = vault::IssueAccountToken(*secret, account, std::time(nullptr) + ttl);
  if (!token.ok()) return Fail(token.status());
  std::cout << *token << "\n";
  return 0;
}

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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "keyvaultd: the chatvault Backup Key Vault. Keeps each account's backup key wrapped under\n"
      "its password (OPAQUE), counts every guess durably and destroys the record after the limit.",
      "keyvaultd"};
  app.require_subcommand(1);

  ServeFlags f;
  CLI::App* serve = app.add_subcommand("serve", "Run the vault's HTTPS API (docs/API.md)");
  serve->add_option("--listen", f.listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  serve->add_option("--port-file", f.port_file, "Write the bound port here once listening");
  serve->add_option("--store", f.store,
                    "Record store: sqlite:PATH (embedded) or etcd://HOST:PORT,... (replicated)")
      ->required();
  serve->add_option("--tls-cert", f.cert, "TLS certificate (PEM); clients pin it or its CA")
      ->required()->check(CLI::ExistingFile);
  serve->add_option("--tls-key", f.key, "TLS private key (PEM)")->required()->check(CLI::ExistingFile);
  serve->add_option("--pkcs11-module", f.module, "PKCS#11 module, e.g. the SoftHSM2 library")
      ->required()->check(CLI::ExistingFile);
  serve->add_option("--hsm-token", f.token_label, "Label of the HSM token")->capture_default_str();
  serve->add_option("--hsm-pin-file", f.pin_file,
                    "File holding the token's user PIN (else $KEYVAULTD_HSM_PIN)");
  serve->add_option("--token-secret-file", f.token_secret_file,
                    "Secret shared with the chat service for account tokens (>= 32 bytes)")
      ->required();
  serve->add_option("--max-guesses", f.max_guesses, "Wrong passwords before a record is destroyed")
      ->capture_default_str()->check(CLI::Range(1, 100));
  serve->add_option("--ksf-memory-kib", f.ksf_memory_kib,
                    "Argon2id memory (KiB) asked of registering clients; small values only for tests")
      ->capture_default_str();
  serve->add_option("--ksf-iterations", f.ksf_iterations, "Argon2id passes asked of clients")
      ->capture_default_str();
  serve->add_option("--login-ttl", f.login_ttl,
                    "Seconds a client may take between the two requests of a login (its password "
                    "stretching on a slow phone); the same bound applies to registration challenges")
      ->capture_default_str()->check(CLI::Range(10, 3600));
  serve->add_option("--audit-log", f.audit_log,
                    "Append one JSON line per security event to FILE ('-': stdout); each is "
                    "written before the client hears of the event (docs/OPERATIONS.md)");
  serve->add_flag("--audit-sync", f.audit_sync,
                  "Also fdatasync each audit line, so it survives a power cut, not only a crash");
  serve->add_option("--instance-id", f.instance_id,
                    "This instance's name in the audit log (default: host name and --listen)");
  serve->add_option("--threads", f.threads,
                    "Requests handled at once (workers; each may wait for the record store)")
      ->capture_default_str()->check(CLI::Range(1, 1024));
  serve->add_option("--io-threads", f.io_threads,
                    "Threads doing TLS and HTTP for every connection (0: one per core)")
      ->capture_default_str()->check(CLI::Range(0, 256));
  AddLimitFlags(*serve, f);
  serve->add_option("--metrics-token-file", f.metrics_token_file,
                    "GET /metrics requires 'Authorization: Bearer <first line of this file>'")
      ->check(CLI::ExistingFile);
  serve->add_option("--metrics-listen", f.metrics_listen,
                    "Serve /metrics on this HOST:PORT only (HTTPS, same certificate), not on "
                    "--listen. Without this flag or a token, /metrics is off");

  std::string secret_file, account;
  int64_t ttl = 3600;
  CLI::App* issue = app.add_subcommand(
      "issue-token", "Print an account token (what the chat service hands a logged-in user)");
  issue->add_option("--token-secret-file", secret_file, "The secret keyvaultd was given")->required();
  issue->add_option("--account", account, "Account id the token is for")->required();
  issue->add_option("--ttl", ttl, "Seconds until the token expires")->capture_default_str();

  CLI11_PARSE(app, argc, argv);
  if (*serve) return Serve(f);
  return IssueToken(secret_file, account, ttl);
}
