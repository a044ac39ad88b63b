#include "chatvault/vaultclient/vault_client.h"

#include <cctype>

#include <nlohmann/json.hpp>

#include "chatvault/crypto/random.h"
#include "chatvault/opaque/client.h"
#include "chatvault/vaultclient/key_wrap.h"
#include "chatvault/vaultproto/signed_request.h"
#include "vaultclient/vault_http.h"

namespace chatvault::vaultclient {
namespace {

using internal::Attempts;
using internal::AttemptsText;
using internal::BackupSequenceBody;
using internal::BackupSequenceField;
using internal::HexField;
using internal::KsfField;
using internal::MessageField;
using internal::VaultHttp;

using nlohmann::json;
using vaultproto::Action;

// How many times a registration or deletion starts over when the record changed under it (a
// guess was counted meanwhile, or the challenge expired while a slow phone stretched).
constexpr int kRestarts = 3;

// The device's signature over one request (vaultproto/signed_request.h).
std::string Proof(const crypto::SigningKey& device, Action action, std::string_view account,
                  ByteView challenge, ByteView payload) {
  return HexEncode(device.Sign(vaultproto::RequestMessage(action, account, challenge, payload)));
}

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
    return http_.Post("/v1/backup-sequence", BackupSequenceBody(account, key, sequence)).status();
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
