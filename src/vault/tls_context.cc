#include "vault/tls_context.h"

#include <openssl/bio.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <ctime>

namespace chatvault::vault {

namespace ssl = boost::asio::ssl;

namespace {

// Sessions kept for TLS 1.2 session-id resumption; tickets (TLS 1.2 and 1.3) need no server
// memory. OpenSSL's default of 20,480 cached sessions would be memory no limit accounts for.
constexpr long kSessionCacheSize = 1024;

std::string SubjectCommonName(X509* cert) {
  char name[256] = {0};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof name) <=
      0) {
    return "no common name";
  }
  return std::string("CN=") + name;
}

int64_t NotAfter(X509* cert) {
  const ASN1_TIME* not_after = X509_get0_notAfter(cert);
  struct tm when {};
  if (!not_after || ASN1_TIME_to_tm(not_after, &when) != 1) return 0;
  return static_cast<int64_t>(timegm(&when));
}

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

Result<std::unique_ptr<TlsContextHolder>> TlsContextHolder::Load(std::string cert_file,
                                                                 std::string key_file) {
  std::unique_ptr<TlsContextHolder> holder(
      new TlsContextHolder(std::move(cert_file), std::move(key_file)));
  CV_RETURN_IF_ERROR(holder->Reload());
  return holder;
}

std::shared_ptr<ssl::context> TlsContextHolder::Current() const {
  MutexLock lock(mu_);
  return current_;
}

Status TlsContextHolder::Reload() {
  CV_ASSIGN_OR_RETURN(std::unique_ptr<ssl::context> fresh,
                      MakeServerTlsContext(cert_file_, key_file_));
  std::shared_ptr<ssl::context> replaced(std::move(fresh));
  MutexLock lock(mu_);
  current_.swap(replaced);
  return OkStatus();  // `replaced` lives on in the connections that still use it
}

std::string TlsContextHolder::Describe() const {
  auto tls = Current();
  X509* cert = SSL_CTX_get0_certificate(tls->native_handle());
  if (!cert) return "no certificate";
  std::string text = SubjectCommonName(cert);
  const time_t until = static_cast<time_t>(NotAfter(cert));
  char when[64] = "an unknown date";
  struct tm utc {};
  if (until != 0 && gmtime_r(&until, &utc)) std::strftime(when, sizeof when, "%F %T UTC", &utc);
  return text + ", valid until " + when;
}

int64_t TlsContextHolder::NotAfterUnix() const {
  auto tls = Current();
  X509* cert = SSL_CTX_get0_certificate(tls->native_handle());
  return cert ? NotAfter(cert) : 0;
}

}  // namespace chatvault::vault
