#include "chatvault/vault/http_server.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

namespace chatvault::vault {
namespace {

using nlohmann::json;

constexpr size_t kKeepAliveMaxRequests = 10000;

// Stable machine-readable error codes for clients (docs/API.md).
struct HttpError {
  int status;
  const char* code;
};

HttpError ErrorFor(const Status& s) {
  switch (s.code()) {
    case Code::kInvalidArgument:
    case Code::kCorrupted:
    case Code::kTruncated:
    case Code::kUnsupported: return {400, "bad_request"};
    case Code::kPermissionDenied: return {403, "forbidden"};
    case Code::kNotFound: return {404, "not_found"};
    case Code::kConflict: return {409, "conflict"};
    case Code::kLockedOut: return {423, "locked_out"};
    case Code::kUnavailable: return {503, "unavailable"};
    default: return {500, "internal"};
  }
}

void Reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void ReplyError(httplib::Response& res, const Status& s) {
  const HttpError e = ErrorFor(s);
  Reply(res, e.status, json{{"error", {{"code", e.code}, {"message", s.message()}}}});
}

// Request fields, checked before anything reaches the vault logic.
class Fields {
 public:
  static Result<Fields> Parse(const std::string& body) {
    json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) return InvalidArgument("the request body is not a JSON object");
    return Fields(std::move(j));
  }

  Result<std::string> Text(const char* name, size_t max = 1024) const {
    auto it = j_.find(name);
    if (it == j_.end() || !it->is_string()) {
      return InvalidArgument(std::string("the request lacks the text field '") + name + "'");
    }
    const std::string& s = it->get_ref<const std::string&>();
    if (s.size() > max) return InvalidArgument(std::string("the field '") + name + "' is too long");
    return s;
  }

  // Hex bytes; `optional` fields may be absent (empty result).
  Result<Bytes> Hex(const char* name, size_t max = 1024, bool optional = false) const {
    auto it = j_.find(name);
    if (it == j_.end() && optional) return Bytes();
    if (it == j_.end() || !it->is_string()) {
      return InvalidArgument(std::string("the request lacks the hex field '") + name + "'");
    }
    const std::string& s = it->get_ref<const std::string&>();
    if (s.size() > 2 * max) return InvalidArgument(std::string("the field '") + name + "' is too long");
    auto bytes = HexDecode(s);
    if (!bytes.ok()) return InvalidArgument(std::string("the field '") + name + "' is not hex");
    return bytes;
  }

  template <typename Message>
  Result<Message> Msg(const char* name) const {
    CV_ASSIGN_OR_RETURN(Bytes b, Hex(name, Message::kSize));
    auto m = Message::Parse(b);
    if (!m.ok()) return InvalidArgument(std::string("the field '") + name + "' is not a valid message");
    return m;
  }

 private:
  explicit Fields(json j) : j_(std::move(j)) {}
  json j_;
};

json KsfJson(const opaque::KsfParams& ksf) { return HexEncode(ksf.Serialize()); }

class HttpsServer final : public HttpServer {
 public:
  HttpsServer(VaultService& service, Metrics& metrics, const HttpServerOptions& options)
      : service_(service),
        metrics_(metrics),
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
  // Wraps a JSON handler: parse, run, map errors; a failure is counted as a rejected request.
  void Post(const char* path, std::function<Result<json>(const Fields&)> handler) {
    server_.Post(path, [this, handler](const httplib::Request& req, httplib::Response& res) {
      auto fields = Fields::Parse(req.body);
      Result<json> out = fields.ok() ? handler(*fields) : Result<json>(fields.status());
      if (!out.ok()) {
        if (out.status().code() == Code::kInvalidArgument) ++metrics_.rejected_requests;
        ReplyError(res, out.status());
        return;
      }
      Reply(res, 200, *out);
    });
  }

  void Routes() {
    Post("/v1/register/start", [this](const Fields& f) -> Result<json> {
      CV_ASSIGN_OR_RETURN(std::string account, f.Text("account", 128));
      CV_ASSIGN_OR_RETURN(std::string token, f.Text("token", 128));
      CV_ASSIGN_OR_RETURN(Bytes proof, f.Hex("proof", kVerifierSize, /*optional=*/true));
      CV_ASSIGN_OR_RETURN(auto request, f.Msg<opaque::RegistrationRequest>("request"));
      CV_ASSIGN_OR_RETURN(auto reply, service_.RegisterStart(account, token, request, proof));
      return json{{"response", HexEncode(reply.response.Serialize())}, {"ksf", KsfJson(reply.ksf)}};
    });
    Post("/v1/register/finish", [this](const Fields& f) -> Result<json> {
      CV_ASSIGN_OR_RETURN(std::string account, f.Text("account", 128));
      CV_ASSIGN_OR_RETURN(std::string token, f.Text("token", 128));
      CV_ASSIGN_OR_RETURN(Bytes proof, f.Hex("proof", kVerifierSize, /*optional=*/true));
      RegisterUpload upload;
      CV_ASSIGN_OR_RETURN(upload.record, f.Msg<opaque::RegistrationRecord>("record"));
      CV_ASSIGN_OR_RETURN(Bytes ksf, f.Hex("ksf", opaque::KsfParams::kSize));
      auto params = opaque::KsfParams::Parse(ksf);
      if (!params.ok()) return InvalidArgument("the field 'ksf' is not valid KSF parameters");
      upload.ksf = *params;
      CV_ASSIGN_OR_RETURN(upload.wrapped_key, f.Hex("wrapped_key", kMaxWrappedKeySize));
      CV_ASSIGN_OR_RETURN(Bytes verifier, f.Hex("verifier", kVerifierSize));
      if (verifier.size() != kVerifierSize) return InvalidArgument("the verifier must be 32 bytes");
      std::copy(verifier.begin(), verifier.end(), upload.verifier.begin());
      CV_RETURN_IF_ERROR(service_.RegisterFinish(account, token, proof, upload));
      return json{{"registered", true}};
    });
    Post("/v1/recover/start", [this](const Fields& f) -> Result<json> {
      CV_ASSIGN_OR_RETURN(std::string account, f.Text("account", 128));
      CV_ASSIGN_OR_RETURN(auto ke1, f.Msg<opaque::KE1>("ke1"));
      CV_ASSIGN_OR_RETURN(auto reply, service_.RecoverStart(account, ke1));
      return json{{"session", reply.session},
                  {"ke2", HexEncode(reply.ke2.Serialize())},
                  {"ksf", KsfJson(reply.ksf)},
                  {"attempts_remaining", reply.attempts_remaining}};
    });
    server_.Post("/v1/recover/finish", [this](const httplib::Request& req, httplib::Response& res) {
      auto fields = Fields::Parse(req.body);
      Result<RecoverFinishReply> out = [&]() -> Result<RecoverFinishReply> {
        if (!fields.ok()) return fields.status();
        CV_ASSIGN_OR_RETURN(std::string session, fields->Text("session", 64));
        CV_ASSIGN_OR_RETURN(auto ke3, fields->Msg<opaque::KE3>("ke3"));
        return service_.RecoverFinish(session, ke3);
      }();
      if (!out.ok()) {
        if (out.status().code() == Code::kInvalidArgument) ++metrics_.rejected_requests;
        ReplyError(res, out.status());
        return;
      }
      if (!out->ok) {
        Reply(res, 401, json{{"error", {{"code", "wrong_password"},
                                        {"message", "wrong password"}}},
                             {"attempts_remaining", out->attempts_remaining}});
        return;
      }
      Reply(res, 200, json{{"wrapped_key", HexEncode(out->wrapped_key)},
                           {"attempts_remaining", out->attempts_remaining}});
    });
    Post("/v1/delete", [this](const Fields& f) -> Result<json> {
      CV_ASSIGN_OR_RETURN(std::string account, f.Text("account", 128));
      CV_ASSIGN_OR_RETURN(std::string token, f.Text("token", 128));
      CV_ASSIGN_OR_RETURN(Bytes proof, f.Hex("proof", kVerifierSize));
      CV_RETURN_IF_ERROR(service_.Delete(account, token, proof));
      return json{{"deleted", true}};
    });
    server_.Get("/v1/health", [this](const httplib::Request&, httplib::Response& res) {
      Status s = service_.Health();
      if (!s.ok()) {
        ReplyError(res, Unavailable(s.message()));
        return;
      }
      Reply(res, 200, json{{"status", "ok"}});
    });
    server_.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics_.RenderPrometheus(service_.PendingSessions()),
                      "text/plain; version=0.0.4");
    });
    server_.set_error_handler([this](const httplib::Request&, httplib::Response& res) {
      if (!res.body.empty()) return;
      ++metrics_.rejected_requests;
      const char* code = res.status == 413 ? "too_large" : res.status == 404 ? "no_such_route" : "bad_request";
      const char* msg = res.status == 413   ? "the request body is too large"
                        : res.status == 404 ? "there is no such API route"
                                            : "the request was not understood";
      res.set_content(json{{"error", {{"code", code}, {"message", msg}}}}.dump(), "application/json");
    });
  }

  VaultService& service_;
  Metrics& metrics_;
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
