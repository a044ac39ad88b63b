// One listening socket: binds without SO_REUSEPORT (a second vault on the same port fails instead
// of silently sharing its clients), admits each new connection against the connection caps and
// hands it to an HttpsSession. A connection over the caps is reset at once, before any TLS work:
// the cheapest answer for the vault, and clients retry.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <string>

#include "chatvault/common/status.h"
#include "vault/https_session.h"
#include "vault/tls_context.h"

namespace chatvault::vault {

class TlsListener : public std::enable_shared_from_this<TlsListener> {
 public:
  // kUnavailable "another process already listens on HOST:PORT" when the port is taken.
  static Result<std::shared_ptr<TlsListener>> Bind(boost::asio::io_context& io,
                                                   const TlsContextHolder& tls,
                                                   const std::string& host, int port,
                                                   const SessionContext& context);

  int port() const { return port_; }
  void Start();
  void Close();  // on the io_context, from Stop()

 private:
  TlsListener(boost::asio::io_context& io, const TlsContextHolder& tls,
              const SessionContext& context);
  void Accept();
  void OnAccept(boost::beast::error_code ec, boost::asio::ip::tcp::socket socket);

  boost::asio::io_context& io_;
  const TlsContextHolder& tls_;  // new connections take its current context
  const SessionContext& context_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_;
  int port_ = -1;
};

}  // namespace chatvault::vault
