#include "vaultclient/vault_http.h"

#include <thread>

#include "chatvault/cloud/http_client.h"
#include "chatvault/cloud/retry.h"
#include "chatvault/vaultproto/signed_request.h"

namespace chatvault::vaultclient {
namespace internal {
namespace {

Code CodeForError(const std::string& code) {
  if (code == "wrong_password" || code == "forbidden") return Code::kPermissionDenied;
  if (code == "record_exists") return Code::kAlreadyExists;
  if (code == "locked_out") return Code::kLockedOut;
  if (code == "not_found") return Code::kNotFound;
  if (code == "unavailable") return Code::kUnavailable;
  if (code == "conflict") return Code::kConflict;
  if (code == "bad_request" || code == "too_large") return Code::kInvalidArgument;
  return Code::kInternal;
}

cloud::RetryPolicy RetryShape() {
  cloud::RetryPolicy shape;
  shape.initial_delay = std::chrono::milliseconds(250);
  shape.max_delay = std::chrono::milliseconds(4000);
  return shape;
}

}  // namespace

Result<Bytes> HexField(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) {
    return Corrupted(std::string("the vault's reply lacks '") + name + "'");
  }
  auto b = HexDecode(it->get<std::string>());
  if (!b.ok()) return Corrupted(std::string("the vault's reply has a malformed '") + name + "'");
  return b;
}

Result<opaque::KsfParams> KsfField(const json& j) {
  CV_ASSIGN_OR_RETURN(Bytes b, HexField(j, "ksf"));
  auto ksf = opaque::KsfParams::Parse(b);
  if (!ksf.ok() || ksf->algorithm != opaque::KsfAlgorithm::kArgon2id) {
    return Corrupted("the vault asked for an unusable key stretching function");
  }
  return ksf;
}

uint32_t Attempts(const json& j) {
  auto it = j.find("attempts_remaining");
  return it != j.end() && it->is_number_unsigned() ? it->get<uint32_t>() : 0;
}

std::string AttemptsText(uint32_t n) {
  return n == 1 ? "1 attempt remains" : std::to_string(n) + " attempts remain";
}

json BackupSequenceBody(std::string_view account, const key::BackupKey& key, uint64_t sequence) {
  const crypto::SigningKey device = vaultproto::DeviceKey(key, account);
  const Bytes message = vaultproto::BackupSequenceMessage(account, sequence);
  return json{
      {"account", account}, {"sequence", sequence}, {"signature", HexEncode(device.Sign(message))}};
}

Result<std::optional<uint64_t>> BackupSequenceField(const json& reply, std::string_view account,
                                                    const key::BackupKey& key) {
  auto it = reply.find("backup_sequence");
  if (it == reply.end()) return std::optional<uint64_t>();
  if (!it->is_object() || !it->contains("sequence") || !(*it)["sequence"].is_number_unsigned()) {
    return Corrupted("the vault's reply has a malformed 'backup_sequence'");
  }
  const uint64_t sequence = (*it)["sequence"].get<uint64_t>();
  CV_ASSIGN_OR_RETURN(Bytes signature, HexField(*it, "signature"));
  const Bytes message = vaultproto::BackupSequenceMessage(account, sequence);
  if (!crypto::VerifySignature(vaultproto::DeviceKey(key, account).verify_key(), message,
                               signature)) {
    return Corrupted("the vault returned a backup sequence that no device holding the key signed");
  }
  return std::optional<uint64_t>(sequence);
}

Result<json> VaultHttp::Post(const std::string& path, const json& body, bool* retried) {
  CV_ASSIGN_OR_RETURN(VaultTransport::Reply reply, SendWithRetry(path, body.dump(), retried));
  return Decode(reply);
}

Status VaultHttp::Health() {
  auto reply = transport_->Send("GET", "/v1/health", "");
  if (!reply.ok()) return reply.status();
  if (reply->status != 200) return Unavailable(transport_->Describe() + " is not healthy");
  return OkStatus();
}

Result<VaultTransport::Reply> VaultHttp::SendWithRetry(const std::string& path,
                                                       const std::string& body, bool* retried) {
  const auto give_up = std::chrono::steady_clock::now() + retry_for_;
  for (int attempt = 1;; ++attempt) {
    if (retried) *retried = attempt > 1;
    auto reply = transport_->Send("POST", path, body);
    const bool busy = reply.ok() && reply->status == 503;
    if (reply.ok() && !busy) return reply;
    if (!reply.ok() && reply.status().code() != Code::kUnavailable) return reply;
    if (std::chrono::steady_clock::now() >= give_up) return reply;
    const auto wake =
        std::chrono::steady_clock::now() + cloud::BackoffDelay(RetryShape(), attempt + 1);
    while (std::chrono::steady_clock::now() < wake) {
      if (stop_retrying_) return Cancelled("stopped retrying " + transport_->Describe());
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

Result<json> VaultHttp::Decode(const VaultTransport::Reply& reply) const {
  json body = json::parse(reply.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded() || !body.is_object()) {
    return Unavailable(transport_->Describe() + " answered HTTP " + std::to_string(reply.status) +
                       " without a JSON body");
  }
  if (reply.status == 200) return body;
  std::string code = "internal";
  std::string message = "the vault failed (HTTP " + std::to_string(reply.status) + ")";
  if (auto e = body.find("error"); e != body.end() && e->is_object()) {
    code = e->value("code", code);
    message = e->value("message", message);
  }
  if (code == "wrong_password") {
    return Status(Code::kPermissionDenied, "wrong password; " + AttemptsText(Attempts(body)));
  }
  return Status(CodeForError(code), "the vault refused: " + message);
}

}  // namespace internal

namespace {

// HTTPS through libcurl, which reuses kept-alive connections and reconnects when the vault
// closed one, and never raises SIGPIPE.
class CurlTransport final : public VaultTransport {
 public:
  explicit CurlTransport(VaultAddress address) : address_(std::move(address)), http_(Policy()) {}

  Result<Reply> Send(const std::string& method, const std::string& path,
                     const std::string& body) override {
    cloud::HttpRequest request;
    request.method = method;
    request.url = address_.url + path;
    request.ca_file = address_.ca_file;
    if (method == "POST") {
      request.body = AsBytes(body);
      request.send_body = true;
      request.headers.push_back("Content-Type: application/json");
    }
    auto response = http_.Once(request);
    if (!response.ok()) return Unreachable(response.status());
    return Reply{response->status, std::string(response->body.begin(), response->body.end())};
  }

  std::string Describe() const override { return "the vault at " + address_.url; }

 private:
  static cloud::RetryPolicy Policy() {
    cloud::RetryPolicy policy;
    policy.max_attempts = 1;  // the client retries for a time, not a count
    policy.request_timeout = std::chrono::seconds(60);  // a busy vault may queue a request
    return policy;
  }

  Status Unreachable(const Status& transport) const {
    std::string why = transport.message();
    if (why.find("certificate") != std::string::npos || why.find("SSL") != std::string::npos) {
      why += " (is --ca the vault's certificate?)";
    }
    return Unavailable("cannot reach " + Describe() + ": " + why);
  }

  VaultAddress address_;
  cloud::HttpClient http_;
};

}  // namespace

Result<std::unique_ptr<VaultTransport>> HttpsTransport(const VaultAddress& address) {
  if (!address.url.starts_with("https://")) {
    return InvalidArgument("the vault URL must start with https:// (got '" + address.url + "')");
  }
  const std::string_view rest = std::string_view(address.url).substr(8);
  if (rest.empty() || rest.find_first_of(" \t\r\n") != std::string_view::npos) {
    return InvalidArgument("the vault URL '" + address.url + "' is malformed");
  }
  std::string url = address.url;
  while (url.ends_with("/")) url.pop_back();
  return std::unique_ptr<VaultTransport>(
      std::make_unique<CurlTransport>(VaultAddress{url, address.ca_file}));
}

}  // namespace chatvault::vaultclient
