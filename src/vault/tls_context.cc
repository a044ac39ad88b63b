#include "vault/tls_context.h"

#include <openssl/ssl.h>

namespace chatvault::vault {

namespace ssl = boost::asio::ssl;

namespace {

// Sessions kept for TLS 1.2 session-id resumption; tickets (TLS 1.2 and 1.3) need no server
// memory. OpenSSL's default of 20,480 cached sessions would be memory no limit accounts for.
constexpr long kSessionCacheSize = 1024;

}  // namespace

Result<std::unique_ptr<ssl::context>> MakeServerTlsContext(const std::string& cert_file,
                                                           const std::string& key_file) {
  auto tls = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = tls->native_handle();
  boost::system::error_code ec;
  tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                       ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                       ssl::context::single_dh_use,
                   ec);
  if (ec || SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION) != 1) {
    return Internal("cannot restrict TLS to version 1.2 and newer");
  }
  // A connection waiting for its client holds no OpenSSL read/write buffers (about 34 KiB).
  SSL_CTX_set_mode(native, SSL_MODE_RELEASE_BUFFERS);
  // A TLS 1.2 client could otherwise make the vault repeat the handshake's public-key work as
  // often as it likes on one connection, outside every deadline.
  SSL_CTX_set_options(native, SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_sess_set_cache_size(native, kSessionCacheSize);
  const std::string what = "cannot load the TLS certificate " + cert_file + " and key " + key_file;
  tls->use_certificate_chain_file(cert_file, ec);
  if (ec) return InvalidArgument(what + ": " + ec.message());
  tls->use_private_key_file(key_file, ssl::context::pem, ec);
  if (ec) return InvalidArgument(what + ": " + ec.message());
  if (SSL_CTX_check_private_key(native) != 1) {
    return InvalidArgument(what + ": the key does not match the certificate");
  }
  return tls;
}

}  // namespace chatvault::vault
