// keyvaultd: the Backup Key Vault daemon (serve), and the operator's token tool (issue-token).
#include <CLI/CLI.hpp>
#include <malloc.h>

#include <csignal>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <thread>

#include <unistd.h>

#include "chatvault/vault/account_token.h"
#include "chatvault/vault/audit_log.h"
#include "chatvault/vault/hsm.h"
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
};

int Fail(const Status& s) {
  std::cerr << "keyvaultd: " << s.ToString() << "\n";
  return s.code() == Code::kInvalidArgument ? 2 : 1;
}

Result<std::string> ReadSmallFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError(std::string("cannot read the ") + what + " file " + path);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// Written whole and renamed into place, so a test polling for it never reads half a number.
Status WritePortFile(const std::string& path, int port) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out) return IoError("cannot write the port file " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return IoError("cannot write the port file " + path);
  return OkStatus();
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
  const size_t colon = f.listen.rfind(':');
  if (colon == std::string::npos) return Fail(InvalidArgument("--listen wants HOST:PORT"));
  http.host = f.listen.substr(0, colon);
  try {
    http.port = std::stoi(f.listen.substr(colon + 1));
  } catch (...) {
    return Fail(InvalidArgument("--listen wants HOST:PORT with a numeric port"));
  }
  http.cert_file = f.cert;
  http.key_file = f.key;
  http.threads = f.threads;

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
  vault::VaultService service(**store, std::move(secrets->setup), secrets->sealing_key,
                              std::move(*token_secret), options, metrics, audit.get());
  auto server = vault::HttpServer::Create(service, metrics, http);
  if (!server.ok()) return Fail(server.status());
  const int port = (*server)->BoundPort();
  if (!f.port_file.empty()) {
    if (Status s = WritePortFile(f.port_file, port); !s.ok()) return Fail(s);
  }
  std::cerr << "keyvaultd: listening on https://" << http.host << ":" << port << " (store "
            << f.store.substr(0, f.store.find(':')) << ", up to " << f.max_guesses
            << " guesses per record)\n";

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
  serve->add_option("--threads", f.threads, "Connections served at once")
      ->capture_default_str()->check(CLI::Range(1, 1024));

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
