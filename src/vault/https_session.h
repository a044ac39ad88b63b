// One client connection: TLS handshake, then requests one after another (keep-alive), each read
// against its limits and deadlines, handled on the worker pool, answered on the connection's own
// strand. Every wait has a deadline, so a client that trickles bytes or says nothing is closed
// when its time is up, however it spaces its bytes.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "chatvault/vault/http_server.h"
#include "vault/api_routes.h"
#include "vault/connection_table.h"
#include "vault/latency_histograms.h"
#include "vault/metrics_access.h"
#include "vault/request_parser.h"
#include "vault/transport_metrics.h"
#include "vault/worker_pool.h"

namespace chatvault::vault {

// What every connection of one listener shares; owned by the server, which outlives them all.
struct SessionContext {
  ApiRoutes& routes;
  Metrics& metrics;
  TransportCounters& counters;
  LatencyHistograms& latency;
  WorkerPool& pool;
  ConnectionTable& table;
  const MetricsAccess& metrics_access;
  const TransportLimits& limits;
  bool metrics_listener = false;  // this listener serves GET /metrics only
  std::function<std::string()> render_transport_metrics;
};

class HttpsSession final : public TrackedConnection,
                           public std::enable_shared_from_this<HttpsSession> {
 public:
  // `tls` is the context current when the connection was accepted; the session keeps it alive
  // (a certificate reload does not touch established connections).
  HttpsSession(boost::asio::ip::tcp::socket socket, std::shared_ptr<boost::asio::ssl::context> tls,
               const SessionContext& context, ConnectionTable::Id id);
  ~HttpsSession() override;

  void Start();
  void Evict() override;
  void Drain() override;

 private:
  enum class State { kHandshake, kHeader, kBody, kHandling, kWriting, kIdle, kClosing, kClosed };
  using error_code = boost::beast::error_code;

  boost::beast::tcp_stream& Tcp() { return boost::beast::get_lowest_layer(stream_); }

  void Handshake();
  void OnHandshake(error_code ec);
  void ReadHeader();
  void OnHeader(error_code ec);
  // Refuses (415, 501) a body compressed or framed other than by Content-Length or chunks,
  // before reading any of it: a compressed body could expand far beyond the limit. True when
  // the refusal is being written.
  bool RefuseEncodings();
  void SendContinue();
  void ReadBody();
  void OnBody(error_code ec);
  // Parse and transport errors: a reply when the client deserves one, else a silent close.
  void OnReadError(error_code ec);
  void Dispatch();
  void ServeMetrics(const ApiRequest& request, const std::string& authorization);
  // Writes `reply`; `reject` closes the connection afterwards without reading what the client
  // may still be sending (see LingeringClose).
  void Write(ApiReply reply, bool reject = false, bool bearer_challenge = false);
  void OnWritten(error_code ec);
  void WaitForNextRequest();
  void OnIdleBytes(error_code ec, std::size_t bytes);
  void GracefulClose();
  void LingeringClose();
  void Drained(error_code ec, std::size_t bytes);
  void Close();

  const std::shared_ptr<boost::asio::ssl::context> tls_;  // outlives stream_
  boost::beast::ssl_stream<boost::beast::tcp_stream> stream_;
  const SessionContext& context_;
  const ConnectionTable::Id id_;
  const RequestLimits request_limits_;
  boost::beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  std::unique_ptr<boost::beast::http::response<boost::beast::http::string_body>> response_;
  std::unique_ptr<char[]> discard_;  // only while draining a refused request
  State state_ = State::kHandshake;
  size_t requests_ = 0;
  size_t drained_ = 0;
  bool keep_alive_ = true;
  bool reject_ = false;
  bool draining_ = false;
  bool head_only_ = false;
  // The request being answered, for the latency histograms; timed from Dispatch to OnWritten.
  size_t route_ = LatencyHistograms::kOther;
  std::optional<std::chrono::steady_clock::time_point> dispatched_;
};

}  // namespace chatvault::vault
