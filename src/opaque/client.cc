#include "chatvault/opaque/client.h"

#include <algorithm>

#include "chatvault/crypto/random.h"
#include "opaque/ake.h"
#include "opaque/deterministic.h"
#include "opaque/envelope.h"
#include "opaque/group.h"
#include "opaque/oprf.h"

namespace chatvault::opaque {

using crypto::Secret;

namespace {

Status CheckPassword(ByteView password) {
  if (password.empty()) return InvalidArgument("the password is empty");
  if (password.size() > 0xffff) return InvalidArgument("the password is longer than 65535 bytes");
  return OkStatus();
}

Status CheckSize(ByteView v, size_t n, const char* what) {
  if (v.size() != n) return Internal(std::string(what) + " has the wrong size");
  return OkStatus();
}

}  // namespace

Result<ClientRegistration> Deterministic::StartRegistration(ByteView password, ByteView blind) {
  CV_RETURN_IF_ERROR(CheckPassword(password));
  CV_RETURN_IF_ERROR(CheckSize(blind, internal::kScalarSize, "blind"));
  ClientRegistration state;
  CV_ASSIGN_OR_RETURN(state.request_.blinded_message, internal::OprfBlind(password, blind));
  state.password_ = Secret::FromBytes(password);
  state.blind_ = Secret::FromBytes(blind);
  return state;
}

Result<ClientRegistrationResult> Deterministic::FinishRegistration(
    ClientRegistration&& state, const RegistrationResponse& response, const Identities& ids,
    const KsfParams& ksf, ByteView envelope_nonce) {
  CV_RETURN_IF_ERROR(internal::CheckElementEncoding(response.evaluated_message,
                                                    "registration response evaluated element"));
  // The server key is only stored here, never multiplied, so it gets the full decoding check.
  CV_RETURN_IF_ERROR(internal::CheckElement(response.server_public_key,
                                            "registration response server public key"));
  CV_ASSIGN_OR_RETURN(Secret rp,
                      internal::RandomizedPassword(state.password_.view(), state.blind_.view(),
                                                   response.evaluated_message, ksf));
  CV_ASSIGN_OR_RETURN(internal::StoredEnvelope stored,
                      internal::StoreEnvelope(rp, response.server_public_key, ids, envelope_nonce));
  ClientRegistrationResult out;
  out.record.client_public_key = stored.client_public_key;
  std::copy_n(stored.masking_key.data(), kNh, out.record.masking_key.begin());
  out.record.envelope = stored.envelope;
  out.export_key = std::move(stored.export_key);
  return out;
}

Result<ClientRegistration> ClientRegistration::Start(ByteView password) {
  Secret blind = internal::RandomScalar();
  return Deterministic::StartRegistration(password, blind.view());
}

Result<ClientRegistrationResult> ClientRegistration::Finish(const RegistrationResponse& response,
                                                            const Identities& ids,
                                                            const KsfParams& ksf) && {
  const Bytes nonce = crypto::RandomBytes(kNn);
  return Deterministic::FinishRegistration(std::move(*this), response, ids, ksf, nonce);
}

Result<ClientLogin> Deterministic::StartLogin(ByteView password, ByteView blind,
                                              ByteView client_nonce,
                                              ByteView client_keyshare_seed) {
  CV_RETURN_IF_ERROR(CheckPassword(password));
  CV_RETURN_IF_ERROR(CheckSize(blind, internal::kScalarSize, "blind"));
  CV_RETURN_IF_ERROR(CheckSize(client_nonce, kNn, "client nonce"));
  CV_RETURN_IF_ERROR(CheckSize(client_keyshare_seed, kNseed, "client keyshare seed"));
  ClientLogin state;
  CV_ASSIGN_OR_RETURN(state.ke1_.blinded_message, internal::OprfBlind(password, blind));
  std::copy(client_nonce.begin(), client_nonce.end(), state.ke1_.client_nonce.begin());
  CV_ASSIGN_OR_RETURN(internal::KeyPair share,
                      internal::DeriveDiffieHellmanKeyPair(client_keyshare_seed));
  state.ke1_.client_public_keyshare = share.public_key;
  state.client_secret_ = std::move(share.private_key);
  state.password_ = Secret::FromBytes(password);
  state.blind_ = Secret::FromBytes(blind);
  return state;
}

Result<ClientLoginResult> Deterministic::FinishLogin(ClientLogin&& state, const KE2& ke2,
                                                     const Identities& ids, const KsfParams& ksf,
                                                     ByteView context) {
  CV_RETURN_IF_ERROR(
      internal::CheckElementEncoding(ke2.evaluated_message, "KE2 evaluated element"));
  CV_RETURN_IF_ERROR(
      internal::CheckElementEncoding(ke2.server_public_keyshare, "KE2 server key share"));
  CV_ASSIGN_OR_RETURN(Secret rp,
                      internal::RandomizedPassword(state.password_.view(), state.blind_.view(),
                                                   ke2.evaluated_message, ksf));
  Secret masking_key = internal::Expand(rp.view(), AsBytes("MaskingKey"), kNh);
  auto plain =
      internal::XorCredentialPad(masking_key.view(), ke2.masking_nonce, ke2.masked_response);
  Element server_public_key{};
  std::copy_n(plain.begin(), kNpk, server_public_key.begin());
  // A wrong password unmasks to garbage, which is usually not a valid point: report it exactly
  // like a failed envelope check so the two cases look the same.
  if (!internal::IsValidElement(server_public_key)) {
    crypto::Wipe(plain);
    return PermissionDenied("wrong password, or the server's response was tampered with");
  }
  CV_ASSIGN_OR_RETURN(
      internal::RecoveredEnvelope rec,
      internal::RecoverEnvelope(rp, server_public_key, ByteView(plain).subspan(kNpk), ids));
  crypto::Wipe(plain);
  CV_ASSIGN_OR_RETURN(Bytes preamble,
                      internal::Preamble(context, rec.credentials.client_identity, state.ke1_,
                                         rec.credentials.server_identity, ke2));
  Secret ikm(3 * 32);
  CV_RETURN_IF_ERROR(internal::ScalarMultInto(
      state.client_secret_.view(), ke2.server_public_keyshare, ikm.span().subspan(0, 32)));
  CV_RETURN_IF_ERROR(internal::ScalarMultInto(state.client_secret_.view(), server_public_key,
                                              ikm.span().subspan(32, 32)));
  CV_RETURN_IF_ERROR(internal::ScalarMultInto(
      rec.client_private_key.view(), ke2.server_public_keyshare, ikm.span().subspan(64, 32)));
  internal::AkeKeys keys = internal::DeriveAkeKeys(ikm.view(), preamble);
  const Bytes expected_server_mac = internal::ServerMac(keys, preamble);
  if (!crypto::ConstantTimeEqual(expected_server_mac, ke2.server_mac)) {
    return PermissionDenied(
        "the server could not prove it holds this account's key; the "
        "response was tampered with or came from another server");
  }
  ClientLoginResult out;
  const Bytes client_mac = internal::ClientMac(keys, preamble, expected_server_mac);
  std::copy(client_mac.begin(), client_mac.end(), out.ke3.client_mac.begin());
  out.session_key = std::move(keys.session_key);
  out.export_key = std::move(rec.export_key);
  return out;
}

Result<ClientLogin> ClientLogin::Start(ByteView password) {
  Secret blind = internal::RandomScalar();
  const Bytes nonce = crypto::RandomBytes(kNn);
  Secret seed = crypto::RandomSecret(kNseed);
  return Deterministic::StartLogin(password, blind.view(), nonce, seed.view());
}

Result<ClientLoginResult> ClientLogin::Finish(const KE2& ke2, const Identities& ids,
                                              const KsfParams& ksf, ByteView context) && {
  return Deterministic::FinishLogin(std::move(*this), ke2, ids, ksf, context);
}

}  // namespace chatvault::opaque
