#include "vault/attack/attacks.h"

#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

#include "chatvault/common/mutex.h"

namespace chatvault::vaultattack {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

constexpr milliseconds kConnectTimeout{10000};
constexpr milliseconds kReplyTimeout{15000};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

milliseconds Left(Clock::time_point deadline) {
  return std::max(milliseconds(0),
                  std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
}

std::string HostField(const Target& target) {
  return "Host: " + target.host + ":" + std::to_string(target.port) + "\r\n";
}

// `bytes` zeros, gzip-compressed: about a thousandth of the size.
std::string GzipBomb(size_t bytes) {
  z_stream z{};
  deflateInit2(&z, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 9, Z_DEFAULT_STRATEGY);
  const std::string zeros(1 << 20, '\0');
  std::string out;
  char buffer[1 << 16];
  for (size_t done = 0; done < bytes || z.avail_in > 0;) {
    const size_t take = std::min(zeros.size(), bytes - done);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(zeros.data()));
    z.avail_in = static_cast<uInt>(take);
    done += take;
    const int flush = done >= bytes ? Z_FINISH : Z_NO_FLUSH;
    do {
      z.next_out = reinterpret_cast<Bytef*>(buffer);
      z.avail_out = sizeof buffer;
      deflate(&z, flush);
      out.append(buffer, sizeof buffer - z.avail_out);
    } while (z.avail_out == 0);
    if (flush == Z_FINISH) break;
  }
  deflateEnd(&z);
  return out;
}

// Opens one connection for HoldConnections; null when the vault refused it.
std::unique_ptr<RawConnection> OpenHeld(const Target& target, const TlsClientContext& tls,
                                        const HoldOptions& options, const std::string& source) {
  auto connection = RawConnection::Open(target, source, kConnectTimeout);
  if (!connection.ok()) return nullptr;
  if (options.tls && !(*connection)->Handshake(tls, kConnectTimeout).ok()) return nullptr;
  if (!options.tls && (*connection)->ClosedByPeer(milliseconds(200))) return nullptr;
  return std::move(connection).value();
}

class Holder {
 public:
  Holder(const Target& target, const TlsClientContext& tls, const HoldOptions& options)
      : target_(target), tls_(tls), options_(options) {}

  // One connection slot: keeps a connection open (or reopens it) until `deadline`.
  void Hold(int index, Clock::time_point deadline) {
    const std::string source =
        options_.sources.empty() ? "" : options_.sources[index % options_.sources.size()];
    const std::string head = "POST /v1/recover/start HTTP/1.1\r\n" + HostField(target_) +
                             "Content-Type: application/json\r\n";
    const std::string request =
        options_.slow_body ? std::string(4096, ' ') : head + "X-Slow: " + std::string(4096, 'x');
    do {
      auto connection = OpenHeld(target_, tls_, options_, source);
      if (!connection) {
        ++refused_;
        // A refused slot retries a little later, as a persistent attacker would.
        std::this_thread::sleep_for(std::min(milliseconds(200), Left(deadline)));
        continue;
      }
      ++opened_;
      const auto opened = Clock::now();
      bool closed =
          options_.slow_body && !connection->Write(head + "Content-Length: 4096\r\n\r\n").ok();
      for (size_t sent = 0; !closed && Clock::now() < deadline; ++sent) {
        if (options_.tls && !connection->Write(request.substr(sent % request.size(), 1)).ok()) {
          closed = true;
          break;
        }
        closed = connection->ClosedByPeer(std::min(options_.interval, Left(deadline)));
      }
      Record(Seconds(Clock::now() - opened), closed);
      if (!closed) break;
    } while (options_.reconnect && Clock::now() < deadline);
  }

  HoldReport Result() {
    MutexLock lock(mu_);
    HoldReport r;
    r.opened = opened_;
    r.refused = refused_;
    r.closed_by_vault = closed_;
    r.open_at_end = open_at_end_;
    r.longest_open_s = longest_;
    return r;
  }

 private:
  void Record(double open_s, bool closed) {
    MutexLock lock(mu_);
    longest_ = std::max(longest_, open_s);
    (closed ? closed_ : open_at_end_)++;
  }

  const Target& target_;
  const TlsClientContext& tls_;
  const HoldOptions& options_;
  std::atomic<int> opened_{0};
  std::atomic<int> refused_{0};
  Mutex mu_;
  int closed_ CV_GUARDED_BY(mu_) = 0;
  int open_at_end_ CV_GUARDED_BY(mu_) = 0;
  double longest_ CV_GUARDED_BY(mu_) = 0;
};

std::string Head(const Target& target, const BodyOptions& options) {
  std::string head = "POST " + options.path + " HTTP/1.1\r\n" + HostField(target) +
                     "Content-Type: application/json\r\n";
  if (!options.content_encoding.empty()) {
    head += "Content-Encoding: " + options.content_encoding + "\r\n";
  }
  return head;
}

// Sends `body` in pieces, stopping as soon as the vault answers or closes.
void SendWhileListening(RawConnection& c, const std::string& body, bool chunked,
                        RequestReport& report) {
  constexpr size_t kPiece = 16 * 1024;
  for (size_t at = 0; at < body.size(); at += kPiece) {
    if (c.Answered(milliseconds(0))) return;  // an early answer (413, 415) or a close
    const std::string_view piece = std::string_view(body).substr(at, kPiece);
    std::string framed;
    if (chunked) {
      char size[32];
      std::snprintf(size, sizeof size, "%zx\r\n", piece.size());
      framed = std::string(size) + std::string(piece) + "\r\n";
    }
    if (!c.Write(chunked ? std::string_view(framed) : piece).ok()) return;
    report.bytes_sent += piece.size();
  }
  if (chunked) (void)c.Write("0\r\n\r\n");
}

}  // namespace

std::string HoldReport::ToJson() const {
  return json{{"opened", opened},
              {"refused", refused},
              {"closed_by_vault", closed_by_vault},
              {"open_at_end", open_at_end},
              {"longest_open_s", longest_open_s}}
      .dump();
}

std::string RequestReport::ToJson() const {
  return json{
      {"status", status}, {"reply", reply}, {"bytes_sent", bytes_sent}, {"seconds", seconds}}
      .dump();
}

std::string ProbeReport::ToJson() const {
  return json{{"answered", answered}, {"failed", failed}, {"slowest_s", slowest_s}}.dump();
}

HoldReport HoldConnections(const Target& target, const HoldOptions& options) {
  auto tls = TlsClientContext::Create(target);
  if (!tls.ok()) return {};
  Holder holder(target, **tls, options);
  const auto deadline = Clock::now() + options.duration;
  std::vector<std::thread> threads;
  for (int i = 0; i < options.connections; ++i) {
    threads.emplace_back([&holder, i, deadline] { holder.Hold(i, deadline); });
  }
  for (std::thread& t : threads) t.join();
  return holder.Result();
}

RequestReport OversizedBody(const Target& target, const BodyOptions& options) {
  RequestReport report;
  // The body first: compressing 200 MB takes long enough for the vault's header deadline.
  const bool bomb = !options.content_encoding.empty();
  const std::string body = bomb ? GzipBomb(options.bytes) : std::string(options.bytes, 'a');
  auto tls = TlsClientContext::Create(target);
  if (!tls.ok()) return report;
  auto c = RawConnection::Open(target, "", kConnectTimeout);
  if (!c.ok() || !(*c)->Handshake(**tls, kConnectTimeout).ok()) return report;
  const auto start = Clock::now();
  std::string head = Head(target, options);
  head += options.chunked ? "Transfer-Encoding: chunked\r\n"
                          : "Content-Length: " + std::to_string(body.size()) + "\r\n";
  if ((*c)->Write(head + "\r\n").ok()) SendWhileListening(**c, body, options.chunked, report);
  report.status = (*c)->ReadReply(kReplyTimeout, &report.reply);
  report.seconds = Seconds(Clock::now() - start);
  return report;
}

RequestReport SendRaw(const Target& target, const std::string& request) {
  RequestReport report;
  const auto start = Clock::now();
  auto tls = TlsClientContext::Create(target);
  if (!tls.ok()) return report;
  auto c = RawConnection::Open(target, "", kConnectTimeout);
  if (!c.ok() || !(*c)->Handshake(**tls, kConnectTimeout).ok()) return report;
  if ((*c)->Write(request).ok()) report.bytes_sent = request.size();
  report.status = (*c)->ReadReply(kReplyTimeout, &report.reply);
  report.seconds = Seconds(Clock::now() - start);
  return report;
}

// An oversized head is a raw request like any other: SendRaw connects, sends it and reads the
// reply (its clock starts after the head is built, so building it is not counted).
RequestReport OversizedHeader(const Target& target, const HeaderOptions& options) {
  std::string head = "GET /v1/health HTTP/1.1\r\n" + HostField(target);
  for (size_t i = 0; i < options.fields; ++i) {
    head += "X-Field-" + std::to_string(i) + ": " + std::string(options.field_bytes, 'h') + "\r\n";
  }
  head += "\r\n";
  return SendRaw(target, head);
}

ProbeReport ProbeHealth(const Target& target, milliseconds duration, milliseconds interval) {
  ProbeReport report;
  auto tls = TlsClientContext::Create(target);
  if (!tls.ok()) return report;
  const auto deadline = Clock::now() + duration;
  while (Clock::now() < deadline) {
    const auto start = Clock::now();
    int status = 0;
    auto c = RawConnection::Open(target, "", kConnectTimeout);
    if (c.ok() && (*c)->Handshake(**tls, kConnectTimeout).ok() &&
        (*c)->Write("GET /v1/health HTTP/1.1\r\n" + HostField(target) + "Connection: close\r\n\r\n")
            .ok()) {
      status = (*c)->ReadReply(kReplyTimeout);
    }
    report.slowest_s = std::max(report.slowest_s, Seconds(Clock::now() - start));
    (status == 200 ? report.answered : report.failed)++;
    std::this_thread::sleep_until(std::min(start + interval, deadline));
  }
  return report;
}

}  // namespace chatvault::vaultattack
