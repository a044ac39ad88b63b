// keyvaultd's HTTPS front end: JSON over TLS (cpp-httplib + OpenSSL), routes in docs/API.md.
#pragma once

#include <memory>
#include <string>

#include "chatvault/common/status.h"
#include "chatvault/vault/metrics.h"
#include "chatvault/vault/vault_service.h"

namespace chatvault::vault {

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 0;  // 0: an ephemeral port (see BoundPort)
  std::string cert_file;
  std::string key_file;
  size_t max_body_bytes = 16 * 1024;
  int threads = 64;  // connections served at once
};

class HttpServer {
 public:
  static Result<std::unique_ptr<HttpServer>> Create(VaultService& service, Metrics& metrics,
                                                    const HttpServerOptions& options);
  virtual ~HttpServer() = default;
  virtual int BoundPort() const = 0;
  // Serves until Stop(); returns when the listener closes.
  virtual Status Run() = 0;
  virtual void Stop() = 0;
};

}  // namespace chatvault::vault
