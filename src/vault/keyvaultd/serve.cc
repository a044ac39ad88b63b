// keyvaultd serve: the vault's HTTPS API until SIGTERM or SIGINT; SIGHUP reloads the TLS
// certificate, the account-token keys and the audit log's file (docs/OPERATIONS.md).
#include <malloc.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <thread>

#include "chatvault/common/file.h"
#include "chatvault/vault/account_token.h"
#include "chatvault/vault/audit_log.h"
#include "chatvault/vault/realm_service.h"
#include "chatvault/vault/server_secrets.h"
#include "chatvault/vault/vault_service.h"
#include "chatvault/vaultstore/store_lock.h"
#include "vault/keyvaultd/commands.h"

namespace chatvault::keyvaultd {
namespace {

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

// "k2 (issues), k1": the ids only, never a secret.
std::string DescribeKeys(const vault::TokenKeys& keys) {
  std::string text;
  for (const std::string& id : keys.ids()) {
    const std::string name = id.empty() ? "the key without an id" : id;
    text += text.empty() ? name + " (issues)" : ", " + name;
  }
  return text;
}

Result<vault::HttpServerOptions> HttpOptions(const ServeFlags& f) {
  vault::HttpServerOptions http;
  CV_RETURN_IF_ERROR(ParseListen(f.listen, "--listen", http.host, http.port));
  if (!f.metrics_listen.empty()) {
    CV_RETURN_IF_ERROR(
        ParseListen(f.metrics_listen, "--metrics-listen", http.metrics_host, http.metrics_port));
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
  return http;
}

// What SIGHUP reloads. Each part is independent: a bad file keeps that part as it was, and the
// log says which.
class Reloader {
 public:
  Reloader(const ServeFlags& flags, vault::HttpServer& server, vault::VaultService& service,
           vault::RealmService& realm, vault::JsonLinesAuditLog* audit, vault::Metrics& metrics)
      : flags_(flags),
        server_(server),
        service_(service),
        realm_(realm),
        audit_(audit),
        metrics_(metrics) {}

  void Reload() {
    Report("the TLS certificate", server_.ReloadTls(), [&] {
      metrics_.tls_not_after_unix = server_.CertificateNotAfter();
      return server_.DescribeCertificate();
    });
    auto keys = vault::TokenKeys::ReadFile(flags_.token_keys_file);
    const std::string described = keys.ok() ? DescribeKeys(*keys) : "";
    if (keys.ok()) {
      realm_.SetTokenKeys(keys->Clone());
      service_.SetTokenKeys(std::move(keys).value());
    }
    Report("the token keys", keys.status(), [&] { return described; });
    if (audit_) {
      Report("the audit log", audit_->Reopen(), [&] { return flags_.audit_log; });
    }
  }

 private:
  template <typename Describe>
  void Report(const char* what, const Status& status, Describe describe) {
    if (status.ok()) {
      ++metrics_.reloads;
      std::cerr << "keyvaultd: SIGHUP: reloaded " << what << ": " << describe() << "\n";
    } else {
      ++metrics_.reload_failures;
      std::cerr << "keyvaultd: SIGHUP: could not reload " << what
                << ", kept the one in use: " << status.ToString() << "\n";
    }
  }

  const ServeFlags& flags_;
  vault::HttpServer& server_;
  vault::VaultService& service_;
  vault::RealmService& realm_;
  vault::JsonLinesAuditLog* audit_;
  vault::Metrics& metrics_;
};

}  // namespace

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
  sigaddset(&signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto http = HttpOptions(f);
  if (!http.ok()) return Fail(http.status());
  RaiseFileLimit(f.limits.max_connections);
  auto token_keys = vault::TokenKeys::ReadFile(f.token_keys_file);
  if (!token_keys.ok()) return Fail(token_keys.status());
  const std::string keys_text = DescribeKeys(*token_keys);

  // Before the store is opened: a second vault on the same file stops here.
  auto lock = vaultstore::StoreLock::Acquire(f.store, "keyvaultd serve");
  if (!lock.ok()) return Fail(lock.status());
  auto vault_state = OpenVault(f.store, f.hsm, NewSecrets::kCreate);
  if (!vault_state.ok()) return Fail(vault_state.status());
  vaultstore::RecordStore& store = *vault_state->store;
  vault::ServerSecrets& secrets = vault_state->secrets;

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
        f.audit_log, f.audit_sync, vault::VaultService::AuditAccountKey(secrets.sealing_key),
        f.instance_id.empty() ? DefaultInstanceId(f.listen) : f.instance_id);
    if (!opened.ok()) return Fail(opened.status());
    audit = std::move(*opened);
  }
  vault::Metrics metrics;
  vault::RealmService realm(store, secrets.sealing_key, token_keys->Clone(), options, metrics,
                            audit.get());
  vault::VaultService service(store, std::move(secrets.setup), secrets.sealing_key,
                              std::move(*token_keys), options, metrics, audit.get());
  auto server = vault::HttpServer::Create(service, &realm, metrics, *http);
  if (!server.ok()) return Fail(server.status());
  metrics.tls_not_after_unix = (*server)->CertificateNotAfter();
  const int port = (*server)->BoundPort();
  if (!f.port_file.empty()) {
    if (Status s = WritePortFile(f.port_file, port); !s.ok()) return Fail(s);
  }
  std::cerr << "keyvaultd: " << CHATVAULT_VERSION << " listening on https://" << http->host << ":"
            << port << " (store " << f.store.substr(0, f.store.find(':')) << ", up to "
            << f.max_guesses << " guesses per record)\n";
  std::cerr << "keyvaultd: TLS certificate " << (*server)->DescribeCertificate() << "; token keys "
            << keys_text << "\n";
  std::cerr << "keyvaultd: /metrics " << MetricsMode(*http, (*server)->BoundMetricsPort()) << "\n";

  Reloader reloader(f, **server, service, realm, audit.get(), metrics);
  std::thread waiter([&] {
    while (true) {
      int sig = 0;
      sigwait(&signals, &sig);
      if (sig == SIGHUP) {
        reloader.Reload();
        continue;
      }
      (*server)->Stop();
      return;
    }
  });
  Status run = (*server)->Run();
  pthread_kill(waiter.native_handle(), SIGTERM);  // wakes the waiter if the server stopped alone
  waiter.join();
  std::cerr << "keyvaultd: stopped\n";
  return run.ok() ? 0 : Fail(run);
}

}  // namespace chatvault::keyvaultd
