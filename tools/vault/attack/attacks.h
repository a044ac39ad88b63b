// Cheap attacks on a Backup Key Vault's transport (issue 16), as an outsider without a token
// would make them, each with a report of what the vault did. The vault is expected to survive
// all of them and keep serving: tests/vault/transport_test.cc checks that against a real
// keyvaultd, and tools/vault/attack (vault-attack) reruns them against a deployed one.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include "vault/attack/raw_tls.h"

namespace chatvault::vaultattack {

using std::chrono::milliseconds;

// Many connections held open as long as the vault allows, each replaced when the vault closes it.
struct HoldOptions {
  int connections = 64;
  // tls: finish the TLS handshake, then send a request header one byte per `interval` (slow
  // headers), or with slow_body a whole header and then its body one byte per `interval`.
  // Without tls: open TCP connections and send nothing (idle connections).
  bool tls = true;
  bool slow_body = false;
  milliseconds interval{4000};
  milliseconds duration{20000};
  std::vector<std::string> sources;  // source addresses, used in turn; empty: the kernel's choice
  bool reconnect = true;             // open a new connection when the vault closes one
};

struct HoldReport {
  int opened = 0;             // connections established (TLS finished, with tls)
  int refused = 0;            // closed or reset before TLS finished (a connection cap)
  int closed_by_vault = 0;    // closed after being established (a deadline)
  int open_at_end = 0;        // still open when the attack ended
  double longest_open_s = 0;  // the longest any connection stayed open
  std::string ToJson() const;
};

HoldReport HoldConnections(const Target& target, const HoldOptions& options);

// One request with a body far over the vault's limit, sent as fast as the vault reads it.
struct BodyOptions {
  std::string path = "/v1/recover/start";
  size_t bytes = 100 << 20;
  bool chunked = true;           // else Content-Length
  std::string content_encoding;  // e.g. "gzip": the body is then a gzip bomb expanding to `bytes`
};

struct RequestReport {
  int status = 0;         // the vault's answer; 0: none before it closed the connection
  std::string reply;      // the answer's body
  size_t bytes_sent = 0;  // body bytes written before the vault answered or closed
  double seconds = 0;
  std::string ToJson() const;
};

RequestReport OversizedBody(const Target& target, const BodyOptions& options);

// A request whose header is too big, or has too many fields.
struct HeaderOptions {
  size_t fields = 1;
  size_t field_bytes = 64 * 1024;
};

RequestReport OversizedHeader(const Target& target, const HeaderOptions& options);

// Any bytes as one request (malformed framing, odd fields, two pipelined requests...); reads one
// reply.
RequestReport SendRaw(const Target& target, const std::string& request);

// The rightful user's view during an attack: GET /v1/health every `interval`, each on a new
// connection (a new client must get in, not only one that was connected before).
struct ProbeReport {
  int answered = 0;      // 200 replies
  int failed = 0;        // no reply, or not 200
  double slowest_s = 0;  // connect + TLS + request + reply
  std::string ToJson() const;
};

ProbeReport ProbeHealth(const Target& target, milliseconds duration, milliseconds interval);

}  // namespace chatvault::vaultattack
