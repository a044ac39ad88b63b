// A deliberately low-level TLS client for the attack tool: it opens a TCP connection from a
// chosen source address, does the TLS handshake, and then writes and reads raw bytes, so an
// attack can send exactly the malformed, slow or oversized request it wants, and see when the
// vault closes the connection.
#pragma once

#include <openssl/ssl.h>

#include <chrono>
#include <memory>
#include <string>

#include "chatvault/common/status.h"

namespace chatvault::vaultattack {

struct Target {
  std::string host;  // the vault's IP address or name
  int port = 0;
  std::string ca_file;  // verify the vault's certificate against it; "" skips verification
};

// "https://HOST:PORT" (or "https://[v6]:PORT").
Result<Target> ParseTarget(const std::string& url, const std::string& ca_file);

// A client TLS context shared by every connection of an attack.
class TlsClientContext {
 public:
  static Result<std::shared_ptr<TlsClientContext>> Create(const Target& target);
  ~TlsClientContext();
  SSL_CTX* get() const { return ctx_; }

 private:
  explicit TlsClientContext(SSL_CTX* ctx) : ctx_(ctx) {}
  SSL_CTX* ctx_;
};

class RawConnection {
 public:
  // A TCP connection from `source` ("" lets the kernel choose), within `timeout`.
  static Result<std::unique_ptr<RawConnection>> Open(const Target& target,
                                                     const std::string& source,
                                                     std::chrono::milliseconds timeout);
  ~RawConnection();

  // kUnavailable when the vault closes or resets the connection instead of finishing TLS.
  Status Handshake(const TlsClientContext& tls, std::chrono::milliseconds timeout);
  // Writes all of `bytes` (through TLS after Handshake); kUnavailable once the vault has closed.
  Status Write(std::string_view bytes);
  // Waits up to `timeout` for the vault to answer or close; true if it did. (A TLS session
  // ticket does not count: bytes of an answer are kept for ReadReply.)
  bool Answered(std::chrono::milliseconds timeout);
  // True once the vault has closed or reset the connection (waits up to `timeout` to tell).
  bool ClosedByPeer(std::chrono::milliseconds timeout);
  // Reads one HTTP reply: its status (0 if none came within `timeout`), body and header.
  int ReadReply(std::chrono::milliseconds timeout, std::string* body = nullptr,
                std::string* head = nullptr);

  int fd() const { return fd_; }

 private:
  explicit RawConnection(int fd) : fd_(fd) {}
  bool WaitReadable(std::chrono::milliseconds timeout) const;
  // Appends some bytes (decrypted after Handshake) to pending_; returns how many, 0 at the end
  // of the stream, -1 when none came within `timeout`.
  long ReadSome(std::chrono::milliseconds timeout);

  int fd_ = -1;
  SSL* ssl_ = nullptr;
  std::string pending_;  // read but not yet part of a reply returned
  bool ended_ = false;   // the vault closed the connection
};

}  // namespace chatvault::vaultattack
