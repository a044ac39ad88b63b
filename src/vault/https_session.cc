#include "vault/https_session.h"

#include <boost/asio/dispatch.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>

#include "vault/transport_replies.h"

namespace chatvault::vault {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

namespace {

// Room for a whole header, a whole body and one read beyond them: the parser consumes the body
// as it arrives, so only a malformed chunk line could fill it (and is then refused).
size_t BufferLimit(const TransportLimits& limits) {
  return limits.max_header_bytes + limits.max_body_bytes + 4096;
}

// After refusing a request the client may still be sending its body. Closing a socket with
// unread data makes the kernel send a reset, which can destroy our reply before the client
// reads it; so read and discard a little first (what Apache calls a lingering close).
constexpr size_t kLingerBytes = 256 * 1024;
constexpr std::chrono::seconds kLingerTime{2};
constexpr size_t kDiscardChunk = 4096;
constexpr size_t kIdleReadChunk = 4096;

std::string_view Trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IsHttpError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_method).category();
}

}  // namespace

HttpsSession::HttpsSession(net::ip::tcp::socket socket, std::shared_ptr<net::ssl::context> tls,
                           const SessionContext& context, ConnectionTable::Id id)
    : tls_(std::move(tls)),
      stream_(beast::tcp_stream(std::move(socket)), *tls_),
      context_(context),
      id_(id),
      request_limits_{context.limits.max_header_bytes, context.limits.max_header_fields,
                      context.limits.max_body_bytes},
      buffer_(BufferLimit(context.limits)) {}

HttpsSession::~HttpsSession() { context_.table.Release(id_); }

void HttpsSession::Start() {
  net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->Handshake(); });
}

void HttpsSession::Evict() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->state_ == State::kIdle) self->Close();
  });
}

void HttpsSession::Drain() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    self->draining_ = true;
    // A request being read or handled is answered (with Connection: close); the rest go now.
    switch (self->state_) {
      case State::kHandshake:
      case State::kHeader:
      case State::kIdle:
        self->Close();
        break;
      default:
        break;
    }
  });
}

void HttpsSession::Handshake() {
  if (state_ == State::kClosed) return;  // drained before it started
  Tcp().expires_after(context_.limits.handshake_timeout);
  stream_.async_handshake(net::ssl::stream_base::server,
                          [self = shared_from_this()](error_code ec) { self->OnHandshake(ec); });
}

void HttpsSession::OnHandshake(error_code ec) {
  if (state_ == State::kClosed) return;
  if (ec) {
    ++context_.counters.tls_failures;
    return Close();
  }
  ReadHeader();
}

void HttpsSession::ReadHeader() {
  if (draining_) return Close();
  state_ = State::kHeader;
  parser_.emplace(request_limits_);
  // One deadline for the whole header, not per read: trickling bytes does not extend it.
  Tcp().expires_after(context_.limits.header_timeout);
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](error_code ec, std::size_t) { self->OnHeader(ec); });
}

void HttpsSession::OnHeader(error_code ec) {
  if (state_ == State::kClosed) return;
  if (ec) return OnReadError(ec);
  ++requests_;
  keep_alive_ = parser_->keep_alive() && requests_ < context_.limits.max_requests_per_connection;
  if (RefuseEncodings()) return;
  if (parser_->expects_continue() && !parser_->is_done()) return SendContinue();
  ReadBody();
}

bool HttpsSession::RefuseEncodings() {
  const std::string& content = parser_->content_encoding();
  const std::string& transfer = parser_->transfer_encoding();
  ApiReply reply;
  if (!content.empty() && !beast::iequals(Trimmed(content), "identity")) {
    reply = UnsupportedEncodingReply();
  } else if (!transfer.empty() && !beast::iequals(Trimmed(transfer), "chunked")) {
    reply = UnsupportedTransferReply();
  } else {
    return false;
  }
  ++context_.counters.refused_requests;
  ++context_.metrics.rejected_requests;
  keep_alive_ = false;
  Write(std::move(reply), /*reject=*/true);
  return true;
}

// A client that sent "Expect: 100-continue" waits for this before its body (curl waits a second).
void HttpsSession::SendContinue() {
  state_ = State::kBody;
  auto interim = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
  Tcp().expires_after(context_.limits.write_timeout);
  http::async_write(stream_, *interim,
                    [self = shared_from_this(), interim](error_code ec, std::size_t) {
                      if (self->state_ == State::kClosed) return;
                      if (ec) return self->Close();
                      self->ReadBody();
                    });
}

void HttpsSession::ReadBody() {
  state_ = State::kBody;
  // Again one deadline for the whole body, chunked or not.
  Tcp().expires_after(context_.limits.body_timeout);
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](error_code ec, std::size_t) { self->OnBody(ec); });
}

void HttpsSession::OnBody(error_code ec) {
  if (state_ == State::kClosed) return;
  if (ec) return OnReadError(ec);
  Dispatch();
}

void HttpsSession::OnReadError(error_code ec) {
  if (ec == beast::error::timeout) {
    // beast closed the socket already; a client this slow gets no reply.
    ++context_.counters.timeouts;
    return Close();
  }
  const bool in_header = state_ == State::kHeader;
  auto refuse = [this](ApiReply reply) {
    ++context_.counters.refused_requests;
    keep_alive_ = false;
    Write(std::move(reply), /*reject=*/true);
  };
  if (ec == http::error::header_limit || (in_header && ec == http::error::buffer_overflow)) {
    ++context_.metrics.rejected_requests;
    return refuse(HeadersTooLargeReply());
  }
  // A compressed body with a Content-Length over the limit is refused for its encoding: the
  // answer that tells the client what to change.
  if (ec == http::error::body_limit && in_header && RefuseEncodings()) return;
  if (ec == http::error::body_limit || ec == http::error::buffer_overflow) {
    return refuse(context_.routes.TransportError(413));
  }
  if (IsHttpError(ec) && ec != http::error::end_of_stream && ec != http::error::partial_message) {
    return refuse(context_.routes.TransportError(400));
  }
  Close();  // the client went away (end of stream, reset, truncated TLS)
}

void HttpsSession::Dispatch() {
  ApiRequest request{parser_->method(), parser_->path(), std::move(parser_->body()),
                     parser_->request_id()};
  const std::string authorization = parser_->authorization();
  parser_.reset();
  route_ = LatencyHistograms::RouteIndex(request.path);
  dispatched_ = std::chrono::steady_clock::now();
  head_only_ = request.method == "HEAD";  // answered, but without a body (RFC 9110 9.3.2)
  if (request.method == "GET" && request.path == "/metrics") {
    return ServeMetrics(request, authorization);
  }
  if (context_.metrics_listener) return Write(context_.routes.TransportError(404));
  state_ = State::kHandling;
  // The tracked executor keeps the I/O threads running until the reply is posted back, so a
  // stopping server still answers the requests it accepted.
  auto executor = net::prefer(stream_.get_executor(), net::execution::outstanding_work.tracked);
  auto task = [self = shared_from_this(), request = std::move(request), executor]() {
    ApiReply reply = self->context_.routes.Handle(request);
    net::post(executor, [self, reply = std::move(reply)]() mutable {
      if (self->state_ != State::kClosed) self->Write(std::move(reply));
    });
  };
  if (!context_.pool.TryPost(std::move(task))) {
    ++context_.counters.busy_replies;
    Write(BusyReply());
  }
}

// Runs on the I/O thread: rendering counters takes no store access, and an operator watching
// an overloaded vault still gets them when every worker is busy.
void HttpsSession::ServeMetrics(const ApiRequest& request, const std::string& authorization) {
  switch (context_.metrics_access.Check(context_.metrics_listener, authorization)) {
    case MetricsAccess::Decision::kNoSuchRoute:
      return Write(context_.routes.TransportError(404));
    case MetricsAccess::Decision::kUnauthorized:
      ++context_.metrics.rejected_requests;
      return Write(MetricsUnauthorizedReply(), false, /*bearer_challenge=*/true);
    case MetricsAccess::Decision::kServe:
      break;
  }
  ApiReply reply = context_.routes.Handle(request);
  if (reply.status == 200) reply.body += context_.render_transport_metrics();
  Write(std::move(reply));
}

void HttpsSession::Write(ApiReply reply, bool reject, bool bearer_challenge) {
  state_ = State::kWriting;
  reject_ = reject;
  if (reject || draining_) keep_alive_ = false;
  response_ = std::make_unique<http::response<http::string_body>>(
      static_cast<http::status>(reply.status), 11);
  response_->set(http::field::content_type, reply.content_type);
  if (reply.status == 503) response_->set(http::field::retry_after, "1");
  if (bearer_challenge) response_->set(http::field::www_authenticate, "Bearer");
  response_->body() = head_only_ ? std::string() : std::move(reply.body);
  response_->keep_alive(keep_alive_);
  response_->prepare_payload();
  Tcp().expires_after(context_.limits.write_timeout);
  http::async_write(stream_, *response_, [self = shared_from_this()](error_code ec, std::size_t) {
    self->OnWritten(ec);
  });
}

void HttpsSession::OnWritten(error_code ec) {
  if (dispatched_) {
    context_.latency.Observe(route_, std::chrono::steady_clock::now() - *dispatched_);
    dispatched_.reset();
  }
  if (state_ == State::kClosed) return;
  response_.reset();
  if (ec) {
    if (ec == beast::error::timeout) ++context_.counters.timeouts;
    return Close();
  }
  if (reject_) return LingeringClose();
  if (!keep_alive_ || draining_) return GracefulClose();
  WaitForNextRequest();
}

void HttpsSession::WaitForNextRequest() {
  if (buffer_.size() > 0) return ReadHeader();  // the client sent its next request already
  buffer_.shrink_to_fit();                      // an idle connection keeps no buffer
  state_ = State::kIdle;
  context_.table.SetIdle(id_);
  Tcp().expires_after(context_.limits.idle_timeout);
  stream_.async_read_some(buffer_.prepare(kIdleReadChunk),
                          [self = shared_from_this()](error_code ec, std::size_t bytes) {
                            self->OnIdleBytes(ec, bytes);
                          });
}

void HttpsSession::OnIdleBytes(error_code ec, std::size_t bytes) {
  if (state_ == State::kClosed) return;
  if (ec) return Close();  // idle deadline, or the client closed: both are normal
  buffer_.commit(bytes);
  // False when the table gave this connection's slot to a newer one meanwhile.
  if (!context_.table.SetBusy(id_)) return Close();
  ReadHeader();
}

// Sends TLS close_notify, waiting briefly for the client's.
void HttpsSession::GracefulClose() {
  state_ = State::kClosing;
  Tcp().expires_after(
      std::min<std::chrono::milliseconds>(context_.limits.write_timeout, kLingerTime));
  stream_.async_shutdown([self = shared_from_this()](error_code) { self->Close(); });
}

void HttpsSession::LingeringClose() {
  state_ = State::kClosing;
  error_code ignored;
  Tcp().socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
  discard_ = std::make_unique<char[]>(kDiscardChunk);
  Tcp().expires_after(kLingerTime);
  Tcp().async_read_some(
      net::buffer(discard_.get(), kDiscardChunk),
      [self = shared_from_this()](error_code ec, std::size_t bytes) { self->Drained(ec, bytes); });
}

void HttpsSession::Drained(error_code ec, std::size_t bytes) {
  if (state_ == State::kClosed) return;
  drained_ += bytes;
  if (ec || drained_ >= kLingerBytes) return Close();
  Tcp().async_read_some(
      net::buffer(discard_.get(), kDiscardChunk),
      [self = shared_from_this()](error_code ec, std::size_t bytes) { self->Drained(ec, bytes); });
}

void HttpsSession::Close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  error_code ignored;
  Tcp().socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  Tcp().close();
  context_.table.Release(id_);  // the slot is free now, not when the last handler lets go
}

}  // namespace chatvault::vault
