// The vault's server-side TLS settings: TLS 1.2 or newer, the operator's certificate chain and
// key, OpenSSL's buffers released while a connection waits, and a bounded session cache.
//
// The certificate can be replaced while the vault serves (SIGHUP): a reload builds a whole new
// context from the same files and new handshakes use it, while every connection keeps the
// context it was accepted with until it closes. A reload that fails keeps the current context.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <cstdint>
#include <memory>
#include <string>

#include "chatvault/common/mutex.h"
#include "chatvault/common/status.h"

namespace chatvault::vault {

Result<std::unique_ptr<boost::asio::ssl::context>> MakeServerTlsContext(
    const std::string& cert_file, const std::string& key_file);

class TlsContextHolder {
 public:
  // kInvalidArgument when the files do not hold a matching certificate and key.
  static Result<std::unique_ptr<TlsContextHolder>> Load(std::string cert_file,
                                                        std::string key_file);

  // The context for a connection accepted now; the connection keeps it alive.
  std::shared_ptr<boost::asio::ssl::context> Current() const;

  // Reads the files again. OK: new handshakes use them. Otherwise nothing changed.
  Status Reload();

  // "CN=vault.example, valid until 2027-01-05 12:00:00 UTC" for the current certificate.
  std::string Describe() const;
  // The current certificate's notAfter in Unix seconds (0 if unknown), for /metrics.
  int64_t NotAfterUnix() const;

 private:
  TlsContextHolder(std::string cert_file, std::string key_file)
      : cert_file_(std::move(cert_file)), key_file_(std::move(key_file)) {}

  const std::string cert_file_;
  const std::string key_file_;
  mutable Mutex mu_;
  std::shared_ptr<boost::asio::ssl::context> current_ CV_GUARDED_BY(mu_);
};

}  // namespace chatvault::vault
