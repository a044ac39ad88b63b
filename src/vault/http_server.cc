#include "chatvault/vault/http_server.h"

#include <httplib.h>

#include "vault/api_routes.h"

namespace chatvault::vault {
namespace {

constexpr size_t kKeepAliveMaxRequests = 10000;

class HttpsServer final : public HttpServer {
 public:
  HttpsServer(VaultService& service, Metrics& metrics, const HttpServerOptions& options)
      : routes_(service, metrics),
        options_(options),
        server_(options.cert_file.c_str(), options.key_file.c_str()) {}

  Status Init() {
    if (!server_.is_valid()) {
      return InvalidArgument("cannot load the TLS certificate " + options_.cert_file + " and key " +
                             options_.key_file);
    }
    const int threads = options_.threads;
    server_.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    server_.set_payload_max_length(options_.max_body_bytes);
    server_.set_keep_alive_timeout(5);
    // httplib closes a keep-alive connection after 5 requests by default (2.5 logins), and each
    // new connection costs a TCP connect and a TLS handshake on both sides (ECDHE + signature),
    // more CPU than the requests themselves. The idle timeout above still frees idle ones.
    server_.set_keep_alive_max_count(kKeepAliveMaxRequests);
    server_.set_tcp_nodelay(true);  // small JSON replies must not wait for delayed ACKs (40 ms)
    server_.set_read_timeout(10, 0);
    server_.set_write_timeout(10, 0);
    Routes();
    if (options_.port == 0) {
      port_ = server_.bind_to_any_port(options_.host.c_str());
    } else if (server_.bind_to_port(options_.host.c_str(), options_.port)) {
      port_ = options_.port;
    }
    if (port_ <= 0) {
      return Unavailable("cannot listen on " + options_.host + ":" + std::to_string(options_.port));
    }
    return OkStatus();
  }

  int BoundPort() const override { return port_; }
  Status Run() override {
    if (!server_.listen_after_bind()) return Unavailable("the HTTPS listener stopped with an error");
    return OkStatus();
  }
  void Stop() override { server_.stop(); }

 private:
  // Every request goes to the API routes; the transport only decides whether it was readable.
  void Routes() {
    auto handle = [this](const httplib::Request& req, httplib::Response& res) {
      ApiReply reply = routes_.Handle(
          ApiRequest{req.method, req.path, req.body, req.get_header_value("X-Request-Id")});
      res.status = reply.status;
      res.set_content(reply.body, reply.content_type.c_str());
    };
    const char* any = R"(/.*)";
    server_.Get(any, handle);
    server_.Post(any, handle);
    server_.Put(any, handle);
    server_.Delete(any, handle);
    server_.Patch(any, handle);
    server_.set_error_handler([this](const httplib::Request&, httplib::Response& res) {
      if (!res.body.empty()) return;
      ApiReply reply = routes_.TransportError(res.status);
      res.set_content(reply.body, reply.content_type.c_str());
    });
  }

  ApiRoutes routes_;
  HttpServerOptions options_;
  httplib::SSLServer server_;
  int port_ = -1;
};

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Create(VaultService& service, Metrics& metrics,
                                                       const HttpServerOptions& options) {
  auto server = std::make_unique<HttpsServer>(service, metrics, options);
  CV_RETURN_IF_ERROR(server->Init());
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace chatvault::vault
