// keyvaultd's HTTPS front end: JSON over TLS (Boost.Beast on Boost.Asio + OpenSSL), routes in
// docs/API.md, limits in docs/OPERATIONS.md. Connections are served asynchronously by a few I/O
// threads, so a slow or idle client costs memory, never a thread; requests run on a bounded pool
// of workers because the record store blocks (fsync, etcd round trips).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "chatvault/common/status.h"
#include "chatvault/vault/metrics.h"
#include "chatvault/vault/realm_service.h"
#include "chatvault/vault/vault_service.h"

namespace chatvault::vault {

// What one client may cost the vault. Every number bounds memory or time whatever the client
// sends; docs/OPERATIONS.md says why each default is what it is.
struct TransportLimits {
  size_t max_body_bytes = 16 * 1024;  // for every transfer encoding, chunked included
  size_t max_header_bytes = 8 * 1024;
  size_t max_header_fields = 64;
  size_t max_connections = 2048;              // in total; idle kept-alive ones are closed first
  size_t max_connections_per_address = 128;   // per IPv4 address or IPv6 /64
  size_t max_queued_requests = 256;           // complete requests waiting for a worker
  size_t max_requests_per_connection = 10000;
  std::chrono::milliseconds handshake_timeout{10'000};  // from accept to the end of TLS
  std::chrono::milliseconds header_timeout{10'000};     // whole header, from its first byte
  std::chrono::milliseconds body_timeout{10'000};       // whole body, however it trickles in
  std::chrono::milliseconds write_timeout{10'000};      // whole reply
  std::chrono::milliseconds idle_timeout{60'000};       // kept-alive, between requests
};

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: an ephemeral port (see BoundPort)
  std::string cert_file;
  std::string key_file;
  int threads = 64;    // workers: requests handled at once (each may wait for the store)
  int io_threads = 0;  // threads doing TLS and HTTP; 0: one per core
  TransportLimits limits;
  // GET /metrics. With a token file, every metrics request needs "Authorization: Bearer
  // <token>" (the file's first line, at least 16 characters). With a metrics port (>= 0),
  // /metrics is served there only, on its own HTTPS listener. With neither, /metrics is off.
  std::string metrics_token_file;
  std::string metrics_host = "127.0.0.1";
  int metrics_port = -1;  // -1: no metrics listener; 0: an ephemeral port
};

class HttpServer {
 public:
  // Binds the listeners (never sharing a port with another process: no SO_REUSEPORT) and loads
  // the TLS certificate; kUnavailable "another process already listens on HOST:PORT" when the
  // port is taken.
  static Result<std::unique_ptr<HttpServer>> Create(VaultService& service, RealmService* realm,
                                                    Metrics& metrics,
                                                    const HttpServerOptions& options);
  virtual ~HttpServer() = default;
  virtual int BoundPort() const = 0;
  virtual int BoundMetricsPort() const = 0;  // -1 without a metrics listener
  // Serves until Stop(); returns once the requests in flight are answered (or a short drain
  // deadline passed) and every connection is closed.
  virtual Status Run() = 0;
  // Stops accepting and closes idle connections; safe from any thread, e.g. a signal waiter.
  virtual void Stop() = 0;
  // Reads the certificate and key files again (SIGHUP): new handshakes use them, established
  // connections keep theirs. On an error the current certificate stays. Safe from any thread.
  virtual Status ReloadTls() = 0;
  // "CN=..., valid until ..." of the certificate new handshakes get, for the log.
  virtual std::string DescribeCertificate() const = 0;
  virtual int64_t CertificateNotAfter() const = 0;  // Unix seconds; 0 if unknown
};

}  // namespace chatvault::vault
