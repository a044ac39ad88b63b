#include "vault/api_routes.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <iostream>

#include <nlohmann/json.hpp>

#include "chatvault/crypto/random.h"

namespace chatvault::vault {
namespace {

using nlohmann::json;

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
    case Code::kAlreadyExists: return {409, "record_exists"};
    case Code::kConflict: return {409, "conflict"};
    case Code::kLockedOut: return {423, "locked_out"};
    case Code::kUnavailable: return {503, "unavailable"};
    default: return {500, "internal"};
  }
}

ApiReply JsonReply(int status, const json& body) {
  ApiReply reply;
  reply.status = status;
  reply.body = body.dump();
  return reply;
}

ApiReply ErrorReply(int status, const char* code, const std::string& message) {
  return JsonReply(status, json{{"error", {{"code", code}, {"message", message}}}});
}

// Store and internal failures keep their detail (member addresses, file paths) in the log; the
// client only learns what kind of failure it was.
ApiReply ErrorReply(const Status& s) {
  const HttpError e = ErrorFor(s);
  if (e.status >= 500) {
    std::cerr << "keyvaultd: " << s.ToString() << "\n";
    return ErrorReply(e.status, e.code,
                      e.status == 503 ? "the vault cannot serve this request now; try again"
                                      : "the vault failed to serve this request");
  }
  return ErrorReply(e.status, e.code, s.message());
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

  template <size_t N>
  Result<std::array<uint8_t, N>> Fixed(const char* name) const {
    CV_ASSIGN_OR_RETURN(Bytes b, Hex(name, N));
    if (b.size() != N) {
      return InvalidArgument(std::string("the field '") + name + "' must be " + std::to_string(N) +
                             " bytes");
    }
    std::array<uint8_t, N> out{};
    std::copy(b.begin(), b.end(), out.begin());
    return out;
  }

  Result<uint64_t> Number(const char* name) const {
    auto it = j_.find(name);
    if (it == j_.end() || !it->is_number_unsigned()) {
      return InvalidArgument(std::string("the request lacks the number field '") + name + "'");
    }
    return it->get<uint64_t>();
  }

  // The fields every signed request carries (docs/API.md, "Signed requests").
  Result<SignedRequest> Signed(bool proof_required, const std::string& request_id) const {
    SignedRequest r;
    r.request_id = request_id;
    CV_ASSIGN_OR_RETURN(r.account, Text("account", 128));
    CV_ASSIGN_OR_RETURN(r.token, Text("token", 128));
    CV_ASSIGN_OR_RETURN(r.challenge, Hex("challenge", 128));
    CV_ASSIGN_OR_RETURN(r.proof, Hex("proof", crypto::kSignatureSize, !proof_required));
    return r;
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

// Up to 64 characters of [A-Za-z0-9._-] from the client, else 16 random hex digits.
std::string RequestId(const std::string& offered) {
  const bool plain = !offered.empty() && offered.size() <= 64 &&
                     std::all_of(offered.begin(), offered.end(), [](unsigned char c) {
                       return std::isalnum(c) || c == '.' || c == '_' || c == '-';
                     });
  return plain ? offered : HexEncode(crypto::RandomBytes(8));
}

using Handler = std::function<Result<json>(const Fields&)>;

// Parses the body and runs the handler on its fields; a malformed request is counted.
template <typename Reply>
Result<Reply> RunOnFields(const ApiRequest& request, Metrics& metrics,
                          const std::function<Result<Reply>(const Fields&)>& handler) {
  auto fields = Fields::Parse(request.body);
  Result<Reply> out = fields.ok() ? handler(*fields) : Result<Reply>(fields.status());
  if (!out.ok() && out.status().code() == Code::kInvalidArgument) ++metrics.rejected_requests;
  return out;
}

// RunOnFields for a handler whose answer is the JSON body; an error becomes its reply.
ApiReply RunPost(const ApiRequest& request, Metrics& metrics, const Handler& handler) {
  Result<json> out = RunOnFields(request, metrics, handler);
  if (!out.ok()) return ErrorReply(out.status());
  return JsonReply(200, *out);
}

// /v1/challenge and /v1/realm/challenge: the same request and reply, from either service.
template <typename Service>
Handler ChallengeHandler(Service& service, const std::string& id) {
  return [&service, &id](const Fields& f) -> Result<json> {
    CV_ASSIGN_OR_RETURN(std::string account, f.Text("account", 128));
    CV_ASSIGN_OR_RETURN(std::string token, f.Text("token", 128));
    CV_ASSIGN_OR_RETURN(Bytes challenge, service.Challenge(account, token, id));
    return json{{"challenge", HexEncode(challenge)}};
  };
}

// /v1/delete and /v1/realm/delete: a signed request with its proof, from either service.
template <typename Service>
Handler DeleteHandler(Service& service, const std::string& id) {
  return [&service, &id](const Fields& f) -> Result<json> {
    CV_ASSIGN_OR_RETURN(SignedRequest signed_request, f.Signed(/*proof_required=*/true, id));
    CV_RETURN_IF_ERROR(service.Delete(signed_request));
    return json{{"deleted", true}};
  };
}

// /v1/backup-sequence and /v1/realm/backup-sequence: the device's signed statement of its newest
// backup, to either service.
template <typename Service>
Handler BackupSequenceHandler(Service& service, const std::string& id) {
  return [&service, &id](const Fields& f) -> Result<json> {
    CV_ASSIGN_OR_RETURN(std::string account, f.Text("account", 128));
    BackupSequence sequence;
    CV_ASSIGN_OR_RETURN(sequence.sequence, f.Number("sequence"));
    CV_ASSIGN_OR_RETURN(sequence.signature, f.Fixed<crypto::kSignatureSize>("signature"));
    CV_RETURN_IF_ERROR(service.SetBackupSequence(account, sequence, id));
    return json{{"recorded", true}};
  };
}

// A successful recovery's reply carries the stored statement, when the device made one.
void AddBackupSequence(json& reply, const BackupSequence& sequence) {
  if (sequence.sequence == 0) return;
  reply["backup_sequence"] = {{"sequence", sequence.sequence},
                              {"signature", HexEncode(sequence.signature)}};
}

json WrongPassword(uint32_t attempts_remaining) {
  return json{{"error", {{"code", "wrong_password"}, {"message", "wrong password"}}},
              {"attempts_remaining", attempts_remaining}};
}

}  // namespace

ApiReply ApiRoutes::TransportError(int status) {
  ++metrics_.rejected_requests;
  switch (status) {
    case 413: return ErrorReply(413, "too_large", "the request body is too large");
    case 404: return ErrorReply(404, "no_such_route", "there is no such API route");
    default: return ErrorReply(status, "bad_request", "the request was not understood");
  }
}

ApiReply ApiRoutes::Handle(const ApiRequest& request) {
  auto post = [this, &request](const Handler& handler) {
    return RunPost(request, metrics_, handler);
  };
  const std::string& path = request.path;
  const std::string id = RequestId(request.request_id);
  if (request.method == "GET") {
    if (path == "/v1/health") {
      Status s = service_ ? service_->Health() : realm_->Health();
      if (!s.ok()) return ErrorReply(Unavailable(s.message()));
      return JsonReply(200, json{{"status", "ok"}});
    }
    if (path == "/metrics") {
      ApiReply reply;
      reply.content_type = "text/plain; version=0.0.4";
      reply.body = metrics_.RenderPrometheus();
      return reply;
    }
    return TransportError(404);
  }
  if (request.method != "POST") return TransportError(404);
  if (path.starts_with("/v1/realm/")) return HandleRealm(request, id);
  if (!service_) return TransportError(404);

  if (path == "/v1/challenge") return post(ChallengeHandler(*service_, id));
  if (path == "/v1/register/start") {
    return post([this, &id](const Fields& f) -> Result<json> {
      CV_ASSIGN_OR_RETURN(SignedRequest signed_request, f.Signed(/*proof_required=*/false, id));
      CV_ASSIGN_OR_RETURN(auto request, f.Msg<opaque::RegistrationRequest>("request"));
      CV_ASSIGN_OR_RETURN(auto reply, service_->RegisterStart(signed_request, request));
      return json{{"response", HexEncode(reply.response.Serialize())}, {"ksf", KsfJson(reply.ksf)}};
    });
  }
  if (path == "/v1/register/finish") {
    return post([this, &id](const Fields& f) -> Result<json> {
      CV_ASSIGN_OR_RETURN(SignedRequest signed_request, f.Signed(/*proof_required=*/true, id));
      RegisterUpload upload;
      CV_ASSIGN_OR_RETURN(upload.record, f.Msg<opaque::RegistrationRecord>("record"));
      CV_ASSIGN_OR_RETURN(Bytes ksf, f.Hex("ksf", opaque::KsfParams::kSize));
      auto params = opaque::KsfParams::Parse(ksf);
      if (!params.ok()) return InvalidArgument("the field 'ksf' is not valid KSF parameters");
      upload.ksf = *params;
      CV_ASSIGN_OR_RETURN(upload.wrapped_key, f.Hex("wrapped_key", kMaxWrappedKeySize));
      CV_ASSIGN_OR_RETURN(upload.device_key, f.Fixed<crypto::kVerifyKeySize>("device_key"));
      CV_RETURN_IF_ERROR(service_->RegisterFinish(signed_request, upload));
      return json{{"registered", true}};
    });
  }
  if (path == "/v1/recover/start") {
    return post([this, &id](const Fields& f) -> Result<json> {
      CV_ASSIGN_OR_RETURN(std::string account, f.Text("account", 128));
      CV_ASSIGN_OR_RETURN(auto ke1, f.Msg<opaque::KE1>("ke1"));
      CV_ASSIGN_OR_RETURN(auto reply, service_->RecoverStart(account, ke1, id));
      return json{{"session", reply.session},
                  {"ke2", HexEncode(reply.ke2.Serialize())},
                  {"ksf", KsfJson(reply.ksf)},
                  {"attempts_remaining", reply.attempts_remaining}};
    });
  }
  if (path == "/v1/recover/finish") {
    Result<RecoverFinishReply> out = RunOnFields<RecoverFinishReply>(
        request, metrics_, [this, &id](const Fields& f) -> Result<RecoverFinishReply> {
          CV_ASSIGN_OR_RETURN(std::string session, f.Text("session", 1024));
          CV_ASSIGN_OR_RETURN(auto ke3, f.Msg<opaque::KE3>("ke3"));
          return service_->RecoverFinish(session, ke3, id);
        });
    if (!out.ok()) return ErrorReply(out.status());
    if (!out->ok) {
      return JsonReply(401, WrongPassword(out->attempts_remaining));
    }
    json reply{{"wrapped_key", HexEncode(out->wrapped_key)},
               {"attempts_remaining", out->attempts_remaining}};
    AddBackupSequence(reply, out->backup_sequence);
    return JsonReply(200, reply);
  }
  if (path == "/v1/delete") return post(DeleteHandler(*service_, id));
  if (path == "/v1/backup-sequence") return post(BackupSequenceHandler(*service_, id));
  return TransportError(404);
}

// The realms protocol (docs/REALMS.md, docs/API.md "Realms").
ApiReply ApiRoutes::HandleRealm(const ApiRequest& request, const std::string& id) {
  if (!realm_) return TransportError(404);
  auto post = [this, &request](const Handler& handler) {
    return RunPost(request, metrics_, handler);
  };
  const std::string& path = request.path;
  if (path == "/v1/realm/challenge") return post(ChallengeHandler(*realm_, id));
  if (path == "/v1/realm/register") {
    return post([this, &id](const Fields& f) -> Result<json> {
      CV_ASSIGN_OR_RETURN(SignedRequest signed_request, f.Signed(/*proof_required=*/true, id));
      CV_ASSIGN_OR_RETURN(Bytes share_bytes, f.Hex("share", 1024));
      auto share = vaultproto::realm::RealmShare::Parse(share_bytes);
      if (!share.ok()) return InvalidArgument("the field 'share' is not a realm share");
      CV_ASSIGN_OR_RETURN(auto device_key, f.Fixed<crypto::kVerifyKeySize>("device_key"));
      CV_RETURN_IF_ERROR(realm_->Register(signed_request, *share, device_key));
      return json{{"registered", true}};
    });
  }
  if (path == "/v1/realm/version") {
    return post([this](const Fields& f) -> Result<json> {
      CV_ASSIGN_OR_RETURN(std::string account, f.Text("account", 128));
      CV_ASSIGN_OR_RETURN(RealmVersionReply reply, realm_->Version(account));
      return json{{"version", HexEncode(reply.version)},
                  {"threshold", reply.threshold},
                  {"realms", reply.realms},
                  {"index", reply.index},
                  {"ksf", KsfJson(reply.ksf)}};
    });
  }
  if (path == "/v1/realm/evaluate") {
    return post([this, &id](const Fields& f) -> Result<json> {
      CV_ASSIGN_OR_RETURN(std::string account, f.Text("account", 128));
      CV_ASSIGN_OR_RETURN(auto version, f.Fixed<vaultproto::realm::kVersionSize>("version"));
      CV_ASSIGN_OR_RETURN(auto blinded, f.Fixed<32>("blinded"));
      CV_ASSIGN_OR_RETURN(RealmEvaluateReply r, realm_->Evaluate(account, version, blinded, id));
      return json{{"index", r.evaluation.index},
                  {"evaluated", HexEncode(r.evaluation.evaluated)},
                  {"proof", HexEncode(r.evaluation.proof)},
                  {"public_key", HexEncode(r.public_key)},
                  {"verifying_key", HexEncode(r.verifying_key)},
                  {"share_signature", HexEncode(r.share_signature)},
                  {"threshold", r.threshold},
                  {"realms", r.realms},
                  {"commitment", HexEncode(r.commitment)},
                  {"attempts_remaining", r.attempts_remaining},
                  {"session", r.session}};
    });
  }
  if (path == "/v1/realm/unlock") {
    Result<RealmUnlockReply> out = RunOnFields<RealmUnlockReply>(
        request, metrics_, [this, &id](const Fields& f) -> Result<RealmUnlockReply> {
          CV_ASSIGN_OR_RETURN(std::string session, f.Text("session", 1024));
          CV_ASSIGN_OR_RETURN(auto proof, f.Fixed<vaultproto::realm::kTagSize>("proof"));
          return realm_->Unlock(session, proof, id);
        });
    if (!out.ok()) return ErrorReply(out.status());
    if (!out->ok) return JsonReply(401, WrongPassword(out->attempts_remaining));
    json reply{{"encryption_share", HexEncode(out->encryption_share)},
               {"wrapped_key", HexEncode(out->wrapped_key)},
               {"share_mac", HexEncode(out->share_mac)},
               {"attempts_remaining", out->attempts_remaining}};
    AddBackupSequence(reply, out->backup_sequence);
    return JsonReply(200, reply);
  }
  if (path == "/v1/realm/delete") return post(DeleteHandler(*realm_, id));
  if (path == "/v1/realm/backup-sequence") return post(BackupSequenceHandler(*realm_, id));
  return TransportError(404);
}

}  // namespace chatvault::vault
