#include "chatvault/vaultclient/vault_client.h"

#include <cctype>
#include <thread>

#include <nlohmann/json.hpp>

#include "chatvault/cloud/http_client.h"
#include "chatvault/crypto/random.h"
#include "chatvault/opaque/client.h"
#include "chatvault/vaultclient/key_wrap.h"
#include "chatvault/vaultproto/signed_request.h"

namespace chatvault::vaultclient {
namespace {

using nlohmann::json;
using vaultproto::Action;

// How many times a registration or deletion starts over when the record changed under it (a
// guess was counted meanwhile, or the challenge expired while a slow phone stretched).
constexpr int kRestarts = 3;

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

Result<Bytes> HexField(const json& j, const char* name) {
  auto it = j.find(name);
  if (it == j.end() || !it->is_string()) {
    return Corrupted(std::string("the vault's reply lacks '") + name + "'");
  }
  auto b = HexDecode(it->get<std::string>());
  if (!b.ok()) return Corrupted(std::string("the vault's reply has a malformed '") + name + "'");
  return b;
}

template <typename Message>
Result<Message> MessageField(const json& j, const char* name) {
  CV_ASSIGN_OR_RETURN(Bytes b, HexField(j, name));
  auto m = Message::Parse(b);
  if (!m.ok()) return Corrupted(std::string("the vault sent an invalid '") + name + "'");
  return m;
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

// The device's signature over one request (vaultproto/signed_request.h).
std::string Proof(const crypto::SigningKey& device, Action action, std::string_view account,
                  ByteView challenge, ByteView payload) {
  return HexEncode(device.Sign(vaultproto::RequestMessage(action, account, challenge, payload)));
}

// The backup sequence in a recovery reply, if any, once its signature checks out.
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

// JSON requests to one vault. Every vault request is safe to repeat (docs/API.md, "Retries"), so
// a failure to connect, a dropped connection and a 503 are retried with the same body.
class VaultHttp {
 public:
  VaultHttp(std::unique_ptr<VaultTransport> transport, std::chrono::milliseconds retry_for)
      : transport_(std::move(transport)), retry_for_(retry_for) {}

  // The reply of a 200, else the vault's error as a Status. `retried` tells whether the request
  // was sent more than once (an earlier attempt may have taken effect).
  Result<json> Post(const std::string& path, const json& body, bool* retried = nullptr) {
    CV_ASSIGN_OR_RETURN(VaultTransport::Reply reply, SendWithRetry(path, body.dump(), retried));
    return Decode(reply);
  }

  Status Health() {
    auto reply = transport_->Send("GET", "/v1/health", "");
    if (!reply.ok()) return reply.status();
    if (reply->status != 200) return Unavailable(transport_->Describe() + " is not healthy");
    return OkStatus();
  }

 private:
  Result<VaultTransport::Reply> SendWithRetry(const std::string& path, const std::string& body,
                                              bool* retried) {
    const auto give_up = std::chrono::steady_clock::now() + retry_for_;
    for (int attempt = 1;; ++attempt) {
      if (retried) *retried = attempt > 1;
      auto reply = transport_->Send("POST", path, body);
      const bool busy = reply.ok() && reply->status == 503;
      if (reply.ok() && !busy) return reply;
      if (!reply.ok() && reply.status().code() != Code::kUnavailable) return reply;
      if (std::chrono::steady_clock::now() >= give_up) return reply;
      std::this_thread::sleep_for(cloud::BackoffDelay(RetryShape(), attempt + 1));
    }
  }

  static cloud::RetryPolicy RetryShape() {
    cloud::RetryPolicy shape;
    shape.initial_delay = std::chrono::milliseconds(250);
    shape.max_delay = std::chrono::milliseconds(4000);
    return shape;
  }

  Result<json> Decode(const VaultTransport::Reply& reply) const {
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

  std::unique_ptr<VaultTransport> transport_;
  std::chrono::milliseconds retry_for_;
};

class JsonVaultClient final : public VaultClient {
 public:
  JsonVaultClient(std::unique_ptr<VaultTransport> transport, ClientOptions options)
      : http_(std::move(transport), options.retry_for), options_(std::move(options)) {}

  Status Register(std::string_view account, std::string_view token, std::string_view password,
                  const key::BackupKey& key) override {
    CV_RETURN_IF_ERROR(CheckPasswordRules(password));
    const crypto::SigningKey device = vaultproto::DeviceKey(key, account);
    for (int i = 0; i < kRestarts; ++i) {
      Status s = RegisterOnce(account, token, password, key, device);
      if (s.code() != Code::kConflict) return s;
    }
    return Unavailable("the vault record kept changing during registration; try again");
  }

  Result<RecoverResult> Recover(std::string_view account, std::string_view password) override {
    if (password.empty()) return InvalidArgument("the password is empty");
    CV_ASSIGN_OR_RETURN(opaque::ClientLogin login, opaque::ClientLogin::Start(AsBytes(password)));
    json start{{"account", account}, {"ke1", HexEncode(login.ke1().Serialize())}};
    CV_ASSIGN_OR_RETURN(json reply, http_.Post("/v1/recover/start", start));
    CV_ASSIGN_OR_RETURN(auto ke2, MessageField<opaque::KE2>(reply, "ke2"));
    CV_ASSIGN_OR_RETURN(opaque::KsfParams ksf, KsfField(reply));
    auto session = reply.find("session");
    if (session == reply.end() || !session->is_string()) {
      return Corrupted("the vault's reply lacks 'session'");
    }
    const uint32_t remaining = Attempts(reply);
    auto finished = std::move(login).Finish(ke2, opaque::Identities{}, ksf);
    if (options_.before_finish) options_.before_finish();
    if (!finished.ok()) return CloseWrongLogin(*session, remaining);
    json finish{{"session", *session}, {"ke3", HexEncode(finished->ke3.Serialize())}};
    auto done = http_.Post("/v1/recover/finish", finish);
    if (!done.ok() && done.status().code() == Code::kNotFound) {
      return Unavailable("the login took longer than the vault allows; the attempt was counted, "
                         "try again");
    }
    if (!done.ok()) return done.status();
    CV_ASSIGN_OR_RETURN(Bytes wrapped, HexField(*done, "wrapped_key"));
    CV_ASSIGN_OR_RETURN(key::BackupKey key, UnwrapBackupKey(finished->export_key, account, wrapped));
    CV_ASSIGN_OR_RETURN(std::optional<uint64_t> sequence, BackupSequenceField(*done, account, key));
    return RecoverResult{std::move(key), Attempts(*done), sequence};
  }

  Status Delete(std::string_view account, std::string_view token,
                const key::BackupKey& key) override {
    const crypto::SigningKey device = vaultproto::DeviceKey(key, account);
    bool sent_before = false;
    for (int i = 0; i < kRestarts; ++i) {
      bool retried = false;
      Status s = DeleteOnce(account, token, device, &retried);
      // A deletion whose answer was lost finds nothing to delete when it is repeated.
      if (s.code() == Code::kNotFound && (sent_before || retried)) return OkStatus();
      if (s.code() != Code::kConflict) return s;
      sent_before = true;
    }
    return Unavailable("the vault record kept changing during deletion; try again");
  }

  Status SetBackupSequence(std::string_view account, const key::BackupKey& key,
                           uint64_t sequence) override {
    const crypto::SigningKey device = vaultproto::DeviceKey(key, account);
    const Bytes message = vaultproto::BackupSequenceMessage(account, sequence);
    json body{{"account", account},
              {"sequence", sequence},
              {"signature", HexEncode(device.Sign(message))}};
    return http_.Post("/v1/backup-sequence", body).status();
  }

  Status Health() override { return http_.Health(); }

 private:
  Result<Bytes> Challenge(std::string_view account, std::string_view token) {
    CV_ASSIGN_OR_RETURN(json reply,
                        http_.Post("/v1/challenge", json{{"account", account}, {"token", token}}));
    return HexField(reply, "challenge");
  }

  Status RegisterOnce(std::string_view account, std::string_view token, std::string_view password,
                      const key::BackupKey& key, const crypto::SigningKey& device) {
    CV_ASSIGN_OR_RETURN(Bytes challenge, Challenge(account, token));
    CV_ASSIGN_OR_RETURN(opaque::ClientRegistration reg,
                        opaque::ClientRegistration::Start(AsBytes(password)));
    json start{{"account", account},
               {"token", token},
               {"challenge", HexEncode(challenge)},
               {"proof", Proof(device, Action::kRegisterStart, account, challenge,
                               vaultproto::RegisterStartPayload(reg.request()))},
               {"request", HexEncode(reg.request().Serialize())}};
    CV_ASSIGN_OR_RETURN(json reply, http_.Post("/v1/register/start", start));
    CV_ASSIGN_OR_RETURN(auto response, MessageField<opaque::RegistrationResponse>(reply, "response"));
    CV_ASSIGN_OR_RETURN(opaque::KsfParams ksf, KsfField(reply));
    CV_RETURN_IF_ERROR(CheckKsfFloor(ksf));
    CV_ASSIGN_OR_RETURN(opaque::ClientRegistrationResult done,
                        std::move(reg).Finish(response, opaque::Identities{}, ksf));
    const Bytes wrapped = WrapBackupKey(done.export_key, account, key);
    const Bytes payload =
        vaultproto::RegisterFinishPayload(done.record, ksf, wrapped, device.verify_key());
    json finish{{"account", account},
                {"token", token},
                {"challenge", HexEncode(challenge)},
                {"proof", Proof(device, Action::kRegisterFinish, account, challenge, payload)},
                {"record", HexEncode(done.record.Serialize())},
                {"ksf", HexEncode(ksf.Serialize())},
                {"wrapped_key", HexEncode(wrapped)},
                {"device_key", HexEncode(device.verify_key())}};
    return http_.Post("/v1/register/finish", finish).status();
  }

  Status CheckKsfFloor(const opaque::KsfParams& ksf) const {
    const opaque::KsfParams floor = opaque::KsfParams::Default();
    if (!options_.allow_weak_ksf &&
        (ksf.memory_kib < floor.memory_kib || ksf.iterations < floor.iterations)) {
      return PermissionDenied("the vault asked for weaker password stretching than chatvault allows");
    }
    return OkStatus();
  }

  // The guess is already spent. Closing the session with a MAC that cannot verify lets the vault
  // settle it now (and destroy the record if this was the last try).
  Status CloseWrongLogin(const json& session, uint32_t remaining) {
    opaque::KE3 junk;
    crypto::RandomFill(junk.client_mac);
    json close{{"session", session}, {"ke3", HexEncode(junk.Serialize())}};
    auto closed = http_.Post("/v1/recover/finish", close);
    if (!closed.ok() && closed.status().code() == Code::kLockedOut) return closed.status();
    return PermissionDenied("wrong password; " + AttemptsText(remaining));
  }

  Status DeleteOnce(std::string_view account, std::string_view token,
                    const crypto::SigningKey& device, bool* retried) {
    CV_ASSIGN_OR_RETURN(Bytes challenge, Challenge(account, token));
    json body{{"account", account},
              {"token", token},
              {"challenge", HexEncode(challenge)},
              {"proof", Proof(device, Action::kDelete, account, challenge, {})}};
    return http_.Post("/v1/delete", body, retried).status();
  }

  VaultHttp http_;
  ClientOptions options_;
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

Result<std::unique_ptr<VaultClient>> VaultClient::Connect(const VaultAddress& address,
                                                          ClientOptions options) {
  CV_ASSIGN_OR_RETURN(std::unique_ptr<VaultTransport> transport, HttpsTransport(address));
  return Over(std::move(transport), std::move(options));
}

std::unique_ptr<VaultClient> VaultClient::Over(std::unique_ptr<VaultTransport> transport,
                                               ClientOptions options) {
  return std::make_unique<JsonVaultClient>(std::move(transport), std::move(options));
}

Status CheckPasswordRules(std::string_view password) {
  bool letter = false, digit = false;
  for (unsigned char c : password) {
    letter |= std::isalpha(c) != 0 || c >= 0x80;  // non-ASCII letters count as letters
    digit |= std::isdigit(c) != 0;
  }
  if (password.size() < 6 || !letter || !digit) {
    return InvalidArgument("a password needs at least 6 characters, with a letter and a digit");
  }
  return OkStatus();
}

}  // namespace chatvault::vaultclient
