#include "vault/tls_listener.h"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/strand.hpp>

namespace chatvault::vault {

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

Result<tcp::endpoint> Resolve(net::io_context& io, const std::string& host, int port) {
  boost::system::error_code ec;
  const std::string bare = host.size() > 2 && host.front() == '[' && host.back() == ']'
                               ? host.substr(1, host.size() - 2)
                               : host;
  net::ip::address address = net::ip::make_address(bare, ec);
  if (!ec) return tcp::endpoint(address, static_cast<unsigned short>(port));
  tcp::resolver resolver(io);
  auto results = resolver.resolve(bare, std::to_string(port), ec);
  if (ec || results.empty()) return InvalidArgument("cannot resolve the listen address " + host);
  return results.begin()->endpoint();
}

std::string Where(const std::string& host, int port) { return host + ":" + std::to_string(port); }

// The key the connection caps count by (ConnectionTable::SourceKey).
std::string SourceOf(const tcp::socket& socket) {
  boost::system::error_code ec;
  const tcp::endpoint peer = socket.remote_endpoint(ec);
  if (ec) return {};
  if (peer.address().is_v4()) {
    const auto bytes = peer.address().to_v4().to_bytes();
    return ConnectionTable::SourceKey(bytes.data(), bytes.size());
  }
  const auto bytes = peer.address().to_v6().to_bytes();
  return ConnectionTable::SourceKey(bytes.data(), bytes.size());
}

}  // namespace

TlsListener::TlsListener(net::io_context& io, const TlsContextHolder& tls,
                         const SessionContext& context)
    : io_(io), tls_(tls), context_(context), acceptor_(io), retry_(io) {}

Result<std::shared_ptr<TlsListener>> TlsListener::Bind(net::io_context& io,
                                                       const TlsContextHolder& tls,
                                                       const std::string& host, int port,
                                                       const SessionContext& context) {
  std::shared_ptr<TlsListener> listener(new TlsListener(io, tls, context));
  CV_ASSIGN_OR_RETURN(tcp::endpoint endpoint, Resolve(io, host, port));
  boost::system::error_code ec;
  tcp::acceptor& acceptor = listener->acceptor_;
  acceptor.open(endpoint.protocol(), ec);
  // SO_REUSEADDR only lets a restarted vault bind while old connections linger in TIME_WAIT; on
  // Linux it never lets two sockets listen on one port. SO_REUSEPORT would, so it is not set.
  if (!ec) acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (ec == net::error::address_in_use) {
    return Unavailable("another process already listens on " + Where(host, port));
  }
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Unavailable("cannot listen on " + Where(host, port) + ": " + ec.message());
  listener->port_ = acceptor.local_endpoint(ec).port();
  if (ec) return Unavailable("cannot listen on " + Where(host, port) + ": " + ec.message());
  return listener;
}

void TlsListener::Start() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] { self->Accept(); });
}

void TlsListener::Close() {
  net::post(acceptor_.get_executor(), [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_.cancel();
  });
}

void TlsListener::Accept() {
  if (!acceptor_.is_open()) return;
  // Each connection gets its own strand, so its handlers never run at once on two I/O threads.
  acceptor_.async_accept(
      net::make_strand(io_),
      [self = shared_from_this()](boost::beast::error_code ec, tcp::socket socket) {
        self->OnAccept(ec, std::move(socket));
      });
}

void TlsListener::OnAccept(boost::beast::error_code ec, tcp::socket socket) {
  if (!acceptor_.is_open()) return;
  if (ec) {
    // Out of file descriptors (or a similar transient failure): pause instead of spinning.
    retry_.expires_after(std::chrono::milliseconds(100));
    retry_.async_wait([self = shared_from_this()](boost::beast::error_code wait) {
      if (!wait) self->Accept();
    });
    return;
  }
  ++context_.counters.connections_accepted;
  const ConnectionTable::Id id = context_.table.Admit(SourceOf(socket));
  if (id == 0) {
    boost::system::error_code ignored;
    socket.set_option(net::socket_base::linger(true, 0), ignored);  // reset, no TIME_WAIT here
    socket.close(ignored);
  } else {
    socket.set_option(tcp::no_delay(true), ec);  // small replies must not wait for an ACK
    auto session = std::make_shared<HttpsSession>(std::move(socket), tls_.Current(), context_, id);
    // Admitted just before the server began to stop: it stops too, having missed DrainAll.
    if (!context_.table.Attach(id, session)) session->Drain();
    session->Start();
  }
  Accept();
}

}  // namespace chatvault::vault
