#include "vault/attack/raw_tls.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <mutex>

namespace chatvault::vaultattack {
namespace {

using Clock = std::chrono::steady_clock;

// A write to a connection the vault has reset would otherwise kill the whole process.
void IgnoreSigpipe() {
  static std::once_flag once;
  std::call_once(once, [] { std::signal(SIGPIPE, SIG_IGN); });
}

int Millis(std::chrono::milliseconds d) {
  return static_cast<int>(std::max<int64_t>(0, d.count()));
}

void SetTimeouts(int fd, std::chrono::milliseconds timeout) {
  timeval tv{};
  const auto ms = std::max<int64_t>(1, timeout.count());
  tv.tv_sec = ms / 1000;
  tv.tv_usec = (ms % 1000) * 1000;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

Result<addrinfo*> Lookup(const std::string& host, int port, int family) {
  addrinfo hints{};
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string service = port > 0 ? std::to_string(port) : "0";
  if (getaddrinfo(host.c_str(), service.c_str(), &hints, &found) != 0 || found == nullptr) {
    return InvalidArgument("cannot resolve " + host);
  }
  return found;
}

// Connects without blocking longer than `timeout`, then makes the socket blocking again.
Status ConnectWithin(int fd, const sockaddr* address, socklen_t size,
                     std::chrono::milliseconds timeout) {
  const int flags = fcntl(fd, F_GETFL, 0);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  if (connect(fd, address, size) != 0 && errno != EINPROGRESS) {
    return Unavailable(std::string("cannot connect: ") + std::strerror(errno));
  }
  pollfd p{fd, POLLOUT, 0};
  if (poll(&p, 1, Millis(timeout)) != 1) return Unavailable("connecting timed out");
  int error = 0;
  socklen_t len = sizeof error;
  getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len);
  if (error != 0) return Unavailable(std::string("cannot connect: ") + std::strerror(error));
  fcntl(fd, F_SETFL, flags);
  return OkStatus();
}

}  // namespace

Result<Target> ParseTarget(const std::string& url, const std::string& ca_file) {
  constexpr std::string_view kScheme = "https://";
  if (url.rfind(kScheme, 0) != 0) return InvalidArgument("the vault URL must start with https://");
  std::string rest = url.substr(kScheme.size());
  if (const size_t slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  const size_t colon = rest.rfind(':');
  if (colon == std::string::npos) return InvalidArgument("the vault URL needs a port");
  Target target;
  target.host = rest.substr(0, colon);
  if (target.host.size() > 2 && target.host.front() == '[') {
    target.host = target.host.substr(1, target.host.size() - 2);
  }
  target.port = std::atoi(rest.c_str() + colon + 1);
  if (target.port <= 0 || target.port > 65535) return InvalidArgument("bad port in " + url);
  target.ca_file = ca_file;
  return target;
}

Result<std::shared_ptr<TlsClientContext>> TlsClientContext::Create(const Target& target) {
  IgnoreSigpipe();
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return Internal("cannot create a TLS context");
  std::shared_ptr<TlsClientContext> tls(new TlsClientContext(ctx));
  if (!target.ca_file.empty()) {
    if (SSL_CTX_load_verify_locations(ctx, target.ca_file.c_str(), nullptr) != 1) {
      return InvalidArgument("cannot load the CA file " + target.ca_file);
    }
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, nullptr);
  }
  return tls;
}

TlsClientContext::~TlsClientContext() { SSL_CTX_free(ctx_); }

Result<std::unique_ptr<RawConnection>> RawConnection::Open(const Target& target,
                                                           const std::string& source,
                                                           std::chrono::milliseconds timeout) {
  IgnoreSigpipe();
  CV_ASSIGN_OR_RETURN(addrinfo * to, Lookup(target.host, target.port, AF_UNSPEC));
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> free_to(to, freeaddrinfo);
  const int fd = socket(to->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Unavailable(std::string("no socket: ") + std::strerror(errno));
  std::unique_ptr<RawConnection> connection(new RawConnection(fd));
  if (!source.empty()) {
    CV_ASSIGN_OR_RETURN(addrinfo * from, Lookup(source, 0, to->ai_family));
    std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> free_from(from, freeaddrinfo);
    if (bind(fd, from->ai_addr, from->ai_addrlen) != 0) {
      return InvalidArgument("cannot bind to the source address " + source + ": " +
                             std::strerror(errno));
    }
  }
  CV_RETURN_IF_ERROR(ConnectWithin(fd, to->ai_addr, to->ai_addrlen, timeout));
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // each slow byte goes out alone
  return connection;
}

RawConnection::~RawConnection() {
  if (ssl_ != nullptr) SSL_free(ssl_);
  if (fd_ >= 0) close(fd_);
}

Status RawConnection::Handshake(const TlsClientContext& tls, std::chrono::milliseconds timeout) {
  ssl_ = SSL_new(tls.get());
  if (ssl_ == nullptr) return Internal("cannot create a TLS connection");
  SSL_set_fd(ssl_, fd_);
  SetTimeouts(fd_, timeout);
  ERR_clear_error();
  if (SSL_connect(ssl_) != 1) {
    ERR_clear_error();
    return Unavailable("the vault closed the connection before TLS was established");
  }
  return OkStatus();
}

Status RawConnection::Write(std::string_view bytes) {
  SetTimeouts(fd_, std::chrono::seconds(10));
  while (!bytes.empty()) {
    long n = 0;
    if (ssl_ != nullptr) {
      ERR_clear_error();
      n = SSL_write(ssl_, bytes.data(), static_cast<int>(std::min<size_t>(bytes.size(), 1 << 20)));
    } else {
      n = send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    }
    if (n <= 0) {
      ERR_clear_error();
      return Unavailable("the vault closed the connection");
    }
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return OkStatus();
}

bool RawConnection::WaitReadable(std::chrono::milliseconds timeout) const {
  if (ssl_ != nullptr && SSL_pending(ssl_) > 0) return true;
  pollfd p{fd_, POLLIN, 0};
  return poll(&p, 1, Millis(timeout)) == 1;
}

long RawConnection::ReadSome(std::chrono::milliseconds timeout) {
  if (ended_) return 0;
  if (!WaitReadable(timeout)) return -1;
  char buffer[16 * 1024];
  long n = 0;
  if (ssl_ == nullptr) {
    n = recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
    if (n < 0) n = errno == EAGAIN || errno == EWOULDBLOCK ? -1 : 0;
  } else {
    // Readable may mean a TLS 1.3 session ticket and no data: wait briefly, then report none.
    SetTimeouts(fd_, std::chrono::milliseconds(50));
    ERR_clear_error();
    n = SSL_read(ssl_, buffer, sizeof buffer);
    if (n <= 0) {
      const int error = SSL_get_error(ssl_, static_cast<int>(n));
      ERR_clear_error();
      // Else close_notify, end of stream, reset or a TLS alert: the vault is gone.
      n = error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE ? -1 : 0;
    }
  }
  if (n > 0) pending_.append(buffer, static_cast<size_t>(n));
  if (n == 0) ended_ = true;
  return n;
}

bool RawConnection::Answered(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  do {
    if (!pending_.empty() || ended_) return true;
    ReadSome(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
  } while (Clock::now() < deadline);
  return !pending_.empty() || ended_;
}

bool RawConnection::ClosedByPeer(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  do {
    if (ended_) return true;
    ReadSome(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
    pending_.clear();  // bytes the vault sent before closing do not matter here
  } while (Clock::now() < deadline);
  return ended_;
}

int RawConnection::ReadReply(std::chrono::milliseconds timeout, std::string* body,
                             std::string* head) {
  const auto deadline = Clock::now() + timeout;
  size_t header_end = std::string::npos;
  size_t wanted = 0;
  while (true) {
    if (header_end == std::string::npos &&
        (header_end = pending_.find("\r\n\r\n")) != std::string::npos) {
      std::string lower = pending_.substr(0, header_end);
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      const size_t at = lower.find("\r\ncontent-length:");
      wanted = at == std::string::npos ? 0 : std::strtoul(lower.c_str() + at + 17, nullptr, 10);
    }
    if (header_end != std::string::npos && pending_.size() >= header_end + 4 + wanted) break;
    if (Clock::now() >= deadline || ReadSome(std::chrono::duration_cast<std::chrono::milliseconds>(
                                        deadline - Clock::now())) == 0) {
      break;
    }
  }
  if (header_end == std::string::npos || pending_.rfind("HTTP/1.", 0) != 0) return 0;
  const size_t end = std::min(pending_.size(), header_end + 4 + wanted);
  if (head != nullptr) *head = pending_.substr(0, header_end);
  if (body != nullptr) *body = pending_.substr(header_end + 4, end - header_end - 4);
  const int status = std::atoi(pending_.c_str() + 9);
  pending_.erase(0, end);
  return status;
}

}  // namespace chatvault::vaultattack
