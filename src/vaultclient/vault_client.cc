#include "chatvault/vaultclient/vault_client.h"

#include <httplib.h>

#include <cctype>

#include <nlohmann/json.hpp>

#include "chatvault/crypto/random.h"
#include "chatvault/opaque/client.h"
#include "chatvault/vaultclient/key_wrap.h"

namespace chatvault::vaultclient {
namespace {

using nlohmann::json;

Code CodeForError(const std::string& code) {
  if (code == "wrong_password" || code == "forbidden") return Code::kPermissionDenied;
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

class HttpsVaultClient final : public VaultClient {
 public:
  HttpsVaultClient(std::string url, std::unique_ptr<httplib::Client> http, ClientOptions options)
      : url_(std::move(url)), http_(std::move(http)), options_(options) {}

  Status Register(std::string_view account, std::string_view token, std::string_view password,
                  const key::BackupKey& key) override {
    CV_RETURN_IF_ERROR(CheckPasswordRules(password));
    const std::string proof = HexEncode(ReauthProof(key, account).view());
    CV_ASSIGN_OR_RETURN(opaque::ClientRegistration reg,
                        opaque::ClientRegistration::Start(AsBytes(password)));
    json start{{"account", account}, {"token", token}, {"proof", proof},
               {"request", HexEncode(reg.request().Serialize())}};
    CV_ASSIGN_OR_RETURN(json reply, Call("/v1/register/start", start));
    CV_ASSIGN_OR_RETURN(auto response, MessageField<opaque::RegistrationResponse>(reply, "response"));
    CV_ASSIGN_OR_RETURN(opaque::KsfParams ksf, KsfField(reply));
    const opaque::KsfParams floor = opaque::KsfParams::Default();
    if (!options_.allow_weak_ksf &&
        (ksf.memory_kib < floor.memory_kib || ksf.iterations < floor.iterations)) {
      return PermissionDenied("the vault asked for weaker password stretching than chatvault allows");
    }
    CV_ASSIGN_OR_RETURN(opaque::ClientRegistrationResult done,
                        std::move(reg).Finish(response, opaque::Identities{}, ksf));
    json finish{{"account", account},
                {"token", token},
                {"proof", proof},
                {"record", HexEncode(done.record.Serialize())},
                {"ksf", HexEncode(ksf.Serialize())},
                {"wrapped_key", HexEncode(WrapBackupKey(done.export_key, account, key))},
                {"verifier", HexEncode(ReauthVerifier(key, account))}};
    return Call("/v1/register/finish", finish).status();
  }

  Result<RecoverResult> Recover(std::string_view account, std::string_view password) override {
    if (password.empty()) return InvalidArgument("the password is empty");
    CV_ASSIGN_OR_RETURN(opaque::ClientLogin login, opaque::ClientLogin::Start(AsBytes(password)));
    json start{{"account", account}, {"ke1", HexEncode(login.ke1().Serialize())}};
    CV_ASSIGN_OR_RETURN(json reply, Call("/v1/recover/start", start));
    CV_ASSIGN_OR_RETURN(auto ke2, MessageField<opaque::KE2>(reply, "ke2"));
    CV_ASSIGN_OR_RETURN(opaque::KsfParams ksf, KsfField(reply));
    auto session = reply.find("session");
    if (session == reply.end() || !session->is_string()) {
      return Corrupted("the vault's reply lacks 'session'");
    }
    const uint32_t remaining = Attempts(reply);
    auto finished = std::move(login).Finish(ke2, opaque::Identities{}, ksf);
    if (!finished.ok()) {
      // The guess is already spent. Closing the session with a MAC that cannot verify lets the
      // vault settle it now (and destroy the record if this was the last try).
      opaque::KE3 junk;
      crypto::RandomFill(junk.client_mac);
      json close{{"session", *session}, {"ke3", HexEncode(junk.Serialize())}};
      auto closed = Call("/v1/recover/finish", close);
      if (!closed.ok() && closed.status().code() == Code::kLockedOut) return closed.status();
      return PermissionDenied("wrong password; " + AttemptsText(remaining));
    }
    json finish{{"session", *session}, {"ke3", HexEncode(finished->ke3.Serialize())}};
    CV_ASSIGN_OR_RETURN(json done, Call("/v1/recover/finish", finish));
    CV_ASSIGN_OR_RETURN(Bytes wrapped, HexField(done, "wrapped_key"));
    CV_ASSIGN_OR_RETURN(key::BackupKey key, UnwrapBackupKey(finished->export_key, account, wrapped));
    return RecoverResult{std::move(key), Attempts(done)};
  }

  Status Delete(std::string_view account, std::string_view token,
                const key::BackupKey& key) override {
    json req{{"account", account}, {"token", token},
             {"proof", HexEncode(ReauthProof(key, account).view())}};
    return Call("/v1/delete", req).status();
  }

  Status Health() override {
    auto res = http_->Get("/v1/health");
    if (!res) return Unreachable(res.error());
    if (res->status != 200) return Unavailable("the vault at " + url_ + " is not healthy");
    return OkStatus();
  }

 private:
  Status Unreachable(httplib::Error error) const {
    std::string why = httplib::to_string(error);
    if (error == httplib::Error::SSLServerVerification) {
      why = "its TLS certificate is not the pinned one (check --ca)";
    }
    return Unavailable("cannot reach the vault at " + url_ + ": " + why);
  }

  Result<json> Call(const char* path, const json& body) {
    auto res = http_->Post(path, body.dump(), "application/json");
    if (!res) return Unreachable(res.error());
    json reply = json::parse(res->body, nullptr, /*allow_exceptions=*/false);
    if (reply.is_discarded() || !reply.is_object()) {
      return Unavailable("the vault at " + url_ + " answered HTTP " + std::to_string(res->status) +
                         " without a JSON body");
    }
    if (res->status == 200) return reply;
    std::string code = "internal", message = "the vault failed (HTTP " + std::to_string(res->status) + ")";
    if (auto e = reply.find("error"); e != reply.end() && e->is_object()) {
      code = e->value("code", code);
      message = e->value("message", message);
    }
    if (code == "wrong_password") {
      return Status(Code::kPermissionDenied, "wrong password; " + AttemptsText(Attempts(reply)));
    }
    return Status(CodeForError(code), "the vault refused: " + message);
  }

  std::string url_;
  std::unique_ptr<httplib::Client> http_;
  ClientOptions options_;
};

}  // namespace

Result<std::unique_ptr<VaultClient>> VaultClient::Connect(const VaultAddress& address,
                                                          ClientOptions options) {
  if (!address.url.starts_with("https://")) {
    return InvalidArgument("the vault URL must start with https:// (got '" + address.url + "')");
  }
  auto http = std::make_unique<httplib::Client>(address.url);
  if (!http->is_valid()) return InvalidArgument("the vault URL '" + address.url + "' is malformed");
  if (!address.ca_file.empty()) http->set_ca_cert_path(address.ca_file.c_str());
  http->enable_server_certificate_verification(true);
  http->set_connection_timeout(10, 0);
  http->set_read_timeout(60, 0);  // a KSF-heavy server could be slow under load
  http->set_write_timeout(10, 0);
  http->set_keep_alive(true);
  http->set_tcp_nodelay(true);  // each request is one small write; do not let Nagle hold it
  return std::unique_ptr<VaultClient>(
      std::make_unique<HttpsVaultClient>(address.url, std::move(http), options));
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
