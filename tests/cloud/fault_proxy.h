// A loopback TCP proxy that understands just enough HTTP/1.1 to inject faults per request:
// answer 500, delay, or drop the connection part-way through the upload. Every forwarded
// request is sent with "Connection: close", so one connection carries one request and the
// response can be relayed byte for byte until the server closes.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace chatvault::testing {

enum class Fault { kNone, kFail500, kDelay, kDropMidRequest };

struct RequestSeen {
  std::string method;
  std::string target;
  std::string host;  // the Host header as sent
  int index;  // 0-based count of requests through this proxy
};

class FaultProxy {
 public:
  using Policy = std::function<Fault(const RequestSeen&)>;

  explicit FaultProxy(int upstream_port) : upstream_port_(upstream_port) {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(listen_fd_, 64);
    socklen_t len = sizeof addr;
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] { AcceptLoop(); });
  }

  ~FaultProxy() {
    stopping_ = true;
    ::shutdown(listen_fd_, SHUT_RDWR);
    ::close(listen_fd_);
    acceptor_.join();
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& t : workers_) t.join();
  }

  int port() const { return port_; }
  void SetPolicy(Policy p) {
    std::lock_guard<std::mutex> lock(mu_);
    policy_ = std::move(p);
  }
  void SetDelay(std::chrono::milliseconds d) { delay_ = d; }
  // A flaky, slow server: every other request, the first included, fails with 500; the rest
  // are delayed by `delay`.
  void FailEveryOtherAndDelayTheRest(std::chrono::milliseconds delay) {
    SetDelay(delay);
    SetPolicy(
        [](const RequestSeen& r) { return r.index % 2 == 0 ? Fault::kFail500 : Fault::kDelay; });
  }
  std::vector<RequestSeen> Seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  void AcceptLoop() {
    while (!stopping_) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (stopping_) return;
        continue;
      }
      std::lock_guard<std::mutex> lock(mu_);
      workers_.emplace_back([this, fd] { Serve(fd); });
    }
  }

  static bool SendAll(int fd, const char* p, size_t n) {
    while (n > 0) {
      const ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
      if (w <= 0) return false;
      p += w;
      n -= static_cast<size_t>(w);
    }
    return true;
  }

  void Serve(int client) {
    std::string head;
    char buf[65536];
    size_t end;
    while ((end = head.find("\r\n\r\n")) == std::string::npos) {
      const ssize_t n = ::recv(client, buf, sizeof buf, 0);
      if (n <= 0) {
        ::close(client);
        return;
      }
      head.append(buf, static_cast<size_t>(n));
    }
    std::string body = head.substr(end + 4);
    head.resize(end + 2);  // keep the last header's CRLF
    size_t content_length = 0;
    std::string rebuilt;
    size_t pos = 0;
    RequestSeen seen{};
    bool first = true;
    while (pos < head.size()) {
      const size_t eol = head.find("\r\n", pos);
      std::string line = head.substr(pos, eol - pos);
      pos = eol + 2;
      if (first) {
        first = false;
        const size_t s1 = line.find(' ');
        const size_t s2 = line.find(' ', s1 + 1);
        seen.method = line.substr(0, s1);
        seen.target = line.substr(s1 + 1, s2 - s1 - 1);
        rebuilt += line + "\r\n";
        continue;
      }
      std::string lower = line;
      for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (lower.starts_with("connection:")) continue;
      if (lower.starts_with("content-length:")) content_length = std::stoul(line.substr(15));
      if (lower.starts_with("host:")) seen.host = line.substr(line.find_first_not_of(' ', 5));
      rebuilt += line + "\r\n";
    }
    rebuilt += "Connection: close\r\n\r\n";
    Fault fault;
    {
      std::lock_guard<std::mutex> lock(mu_);
      seen.index = static_cast<int>(seen_.size());
      seen_.push_back(seen);
      fault = policy_ ? policy_(seen) : Fault::kNone;
    }
    if (fault == Fault::kDropMidRequest) {
      // Let part of the upload arrive, then vanish like a crashed server or a cut cable.
      ::close(client);
      return;
    }
    while (body.size() < content_length) {
      const ssize_t n = ::recv(client, buf, sizeof buf, 0);
      if (n <= 0) {
        ::close(client);
        return;
      }
      body.append(buf, static_cast<size_t>(n));
    }
    if (fault == Fault::kFail500) {
      static const char kFail[] =
          "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      SendAll(client, kFail, sizeof kFail - 1);
      ::close(client);
      return;
    }
    if (fault == Fault::kDelay) std::this_thread::sleep_for(delay_.load());
    const int up = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(upstream_port_));
    if (::connect(up, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        !SendAll(up, rebuilt.data(), rebuilt.size()) || !SendAll(up, body.data(), body.size())) {
      ::close(up);
      ::close(client);
      return;
    }
    for (;;) {
      const ssize_t n = ::recv(up, buf, sizeof buf, 0);
      if (n <= 0 || !SendAll(client, buf, static_cast<size_t>(n))) break;
    }
    ::close(up);
    ::close(client);
  }

  int upstream_port_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::chrono::milliseconds> delay_{std::chrono::milliseconds(0)};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> workers_;
  std::vector<RequestSeen> seen_;
  Policy policy_;
};

}  // namespace chatvault::testing
