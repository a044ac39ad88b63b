#include "chatvault/opaque/server.h"

#include <algorithm>

#include "chatvault/crypto/hkdf.h"
#include "chatvault/crypto/random.h"
#include "opaque/ake.h"
#include "opaque/deterministic.h"
#include "opaque/envelope.h"
#include "opaque/group.h"
#include "opaque/oprf.h"

namespace chatvault::opaque {

using crypto::Secret;

namespace {

constexpr uint8_t kSetupVersion = 1;

Status CheckCredentialIdentifier(ByteView id) {
  if (id.empty()) return InvalidArgument("the credential identifier is empty");
  if (id.size() > 0xffff) return InvalidArgument("the credential identifier is too long");
  return OkStatus();
}

// The parts of a record the login needs; a fake record has an all-zero envelope.
struct RecordView {
  Element client_public_key{};
  ByteView masking_key;
  std::array<uint8_t, kEnvelopeSize> envelope{};
};

}  // namespace

ServerSetup ServerSetup::Generate(ByteView server_identity) {
  ServerSetup s;
  s.oprf_seed_ = crypto::RandomSecret(kNh);
  s.private_key_ = internal::RandomScalar();
  // A non-zero scalar never gives the identity, so this cannot fail.
  s.public_key_ = *internal::ScalarMultBase(s.private_key_.view());
  s.identity_.assign(server_identity.begin(), server_identity.end());
  return s;
}

Result<ServerSetup> Deterministic::MakeSetup(ByteView oprf_seed, ByteView server_private_key,
                                             ByteView server_identity) {
  if (oprf_seed.size() != kNh) return InvalidArgument("the OPRF seed must be 64 bytes");
  if (server_private_key.size() != kNsk) return InvalidArgument("the server key must be 32 bytes");
  if (server_identity.size() > 0xffff) return InvalidArgument("the server identity is too long");
  if (!internal::IsCanonicalScalar(server_private_key)) {
    return InvalidArgument("the server private key is not a reduced scalar");
  }
  ServerSetup s;
  s.oprf_seed_ = Secret::FromBytes(oprf_seed);
  s.private_key_ = Secret::FromBytes(server_private_key);
  CV_ASSIGN_OR_RETURN(s.public_key_, internal::ScalarMultBase(server_private_key));
  s.identity_.assign(server_identity.begin(), server_identity.end());
  return s;
}

Secret ServerSetup::Serialize() const {
  Secret out(1 + kNh + kNsk + 2 + identity_.size());
  uint8_t* p = out.data();
  *p++ = kSetupVersion;
  p = std::copy_n(oprf_seed_.data(), kNh, p);
  p = std::copy_n(private_key_.data(), kNsk, p);
  *p++ = static_cast<uint8_t>(identity_.size() >> 8);
  *p++ = static_cast<uint8_t>(identity_.size() & 0xff);
  std::copy(identity_.begin(), identity_.end(), p);
  return out;
}

Result<ServerSetup> ServerSetup::Parse(ByteView in) {
  constexpr size_t kFixed = 1 + kNh + kNsk + 2;
  if (in.size() < kFixed) return InvalidArgument("the OPAQUE server setup is truncated");
  if (in[0] != kSetupVersion) return Unsupported("unknown OPAQUE server setup version");
  const size_t id_len = ReadU16BE(in.data() + 1 + kNh + kNsk);
  if (in.size() != kFixed + id_len) {
    return InvalidArgument("the OPAQUE server setup has the wrong length");
  }
  const ByteView key = in.subspan(1 + kNh, kNsk);
  auto setup = Deterministic::MakeSetup(in.subspan(1, kNh), key, in.subspan(kFixed));
  if (!setup.ok()) return InvalidArgument("the OPAQUE server setup holds an invalid private key");
  return setup;
}

Result<RegistrationResponse> ServerSetup::CreateRegistrationResponse(
    const RegistrationRequest& request, ByteView credential_identifier) const {
  CV_RETURN_IF_ERROR(CheckCredentialIdentifier(credential_identifier));
  CV_RETURN_IF_ERROR(internal::CheckElementEncoding(request.blinded_message,
                                                    "registration request blinded element"));
  CV_ASSIGN_OR_RETURN(Secret oprf_key,
                      internal::DeriveOprfKey(oprf_seed_.view(), credential_identifier));
  RegistrationResponse response;
  CV_ASSIGN_OR_RETURN(response.evaluated_message,
                      internal::OprfBlindEvaluate(oprf_key.view(), request.blinded_message));
  response.server_public_key = public_key_;
  return response;
}

namespace {

// One login for a real or fake record. Writes KE2 and what Finish needs into the out-params
// (ServerLogin's fields are private to its friends).
Status StartLoginImpl(const ServerSetup& setup, ByteView oprf_seed, ByteView server_private_key,
                      const RecordView& record, ByteView credential_identifier, const KE1& ke1,
                      ByteView client_identity, ByteView context,
                      const Deterministic::ServerRandomness& rnd, KE2& ke2,
                      Secret& expected_client_mac, Secret& session_key) {
  CV_RETURN_IF_ERROR(CheckCredentialIdentifier(credential_identifier));
  if (rnd.masking_nonce.size() != kNn || rnd.server_nonce.size() != kNn ||
      rnd.server_keyshare_seed.size() != kNseed) {
    return Internal("server login randomness has the wrong size");
  }
  CV_RETURN_IF_ERROR(internal::CheckElementEncoding(ke1.blinded_message, "KE1 blinded element"));
  CV_RETURN_IF_ERROR(
      internal::CheckElementEncoding(ke1.client_public_keyshare, "KE1 client key share"));
  CV_RETURN_IF_ERROR(
      internal::CheckElementEncoding(record.client_public_key, "record client public key"));

  // Credential response: OPRF evaluation plus the masked server key and envelope.
  CV_ASSIGN_OR_RETURN(Secret oprf_key, internal::DeriveOprfKey(oprf_seed, credential_identifier));
  CV_ASSIGN_OR_RETURN(ke2.evaluated_message,
                      internal::OprfBlindEvaluate(oprf_key.view(), ke1.blinded_message));
  std::copy(rnd.masking_nonce.begin(), rnd.masking_nonce.end(), ke2.masking_nonce.begin());
  std::array<uint8_t, KE2::kMaskedResponseSize> plain{};
  std::copy(setup.public_key().begin(), setup.public_key().end(), plain.begin());
  std::copy(record.envelope.begin(), record.envelope.end(), plain.begin() + kNpk);
  ke2.masked_response = internal::XorCredentialPad(record.masking_key, ke2.masking_nonce, plain);

  // 3DH.
  std::copy(rnd.server_nonce.begin(), rnd.server_nonce.end(), ke2.server_nonce.begin());
  CV_ASSIGN_OR_RETURN(internal::KeyPair share,
                      internal::DeriveDiffieHellmanKeyPair(rnd.server_keyshare_seed));
  ke2.server_public_keyshare = share.public_key;
  CV_ASSIGN_OR_RETURN(
      internal::CleartextCredentials creds,
      internal::MakeCleartextCredentials(
          setup.public_key(), record.client_public_key,
          Identities{Bytes(client_identity.begin(), client_identity.end()), setup.identity()}));
  CV_ASSIGN_OR_RETURN(Bytes preamble, internal::Preamble(context, creds.client_identity, ke1,
                                                         creds.server_identity, ke2));
  Secret ikm(3 * 32);
  CV_RETURN_IF_ERROR(internal::ScalarMultInto(share.private_key.view(), ke1.client_public_keyshare,
                                              ikm.span().subspan(0, 32)));
  CV_RETURN_IF_ERROR(internal::ScalarMultInto(server_private_key, ke1.client_public_keyshare,
                                              ikm.span().subspan(32, 32)));
  CV_RETURN_IF_ERROR(internal::ScalarMultInto(share.private_key.view(), record.client_public_key,
                                              ikm.span().subspan(64, 32)));
  internal::AkeKeys keys = internal::DeriveAkeKeys(ikm.view(), preamble);
  const Bytes server_mac = internal::ServerMac(keys, preamble);
  std::copy(server_mac.begin(), server_mac.end(), ke2.server_mac.begin());
  Bytes client_mac = internal::ClientMac(keys, preamble, server_mac);
  expected_client_mac = Secret::FromBytes(client_mac);
  crypto::Wipe(client_mac);
  session_key = std::move(keys.session_key);
  return OkStatus();
}

}  // namespace

Result<ServerLogin> Deterministic::StartServerLogin(const ServerSetup& setup,
                                                    const RegistrationRecord& record,
                                                    ByteView credential_identifier, const KE1& ke1,
                                                    ByteView client_identity, ByteView context,
                                                    const ServerRandomness& rnd) {
  RecordView view;
  view.client_public_key = record.client_public_key;
  view.masking_key = record.masking_key;
  view.envelope = record.envelope;
  ServerLogin login;
  CV_RETURN_IF_ERROR(StartLoginImpl(setup, setup.oprf_seed_.view(), setup.private_key_.view(), view,
                                    credential_identifier, ke1, client_identity, context, rnd,
                                    login.ke2_, login.expected_client_mac_, login.session_key_));
  return login;
}

Result<ServerLogin> Deterministic::StartFakeServerLogin(
    const ServerSetup& setup, const Element& fake_client_public_key, ByteView fake_masking_key,
    ByteView credential_identifier, const KE1& ke1, ByteView client_identity, ByteView context,
    const ServerRandomness& rnd) {
  if (fake_masking_key.size() != kNh) return Internal("fake masking key must be 64 bytes");
  RecordView view;
  view.client_public_key = fake_client_public_key;
  view.masking_key = fake_masking_key;
  ServerLogin login;
  CV_RETURN_IF_ERROR(StartLoginImpl(setup, setup.oprf_seed_.view(), setup.private_key_.view(), view,
                                    credential_identifier, ke1, client_identity, context, rnd,
                                    login.ke2_, login.expected_client_mac_, login.session_key_));
  return login;
}

namespace {

// A login's server randomness, one block: masking nonce || server nonce || key share seed.
class LoginRandomness {
 public:
  static LoginRandomness Fresh() { return LoginRandomness(crypto::RandomSecret(kSize)); }
  static LoginRandomness FromSeed(const Secret& seed) {
    return LoginRandomness(crypto::HkdfExpand(crypto::HashAlg::kSha512, seed.view(),
                                              AsBytes("chatvault/v1/opaque-server-login"), kSize));
  }
  Deterministic::ServerRandomness View() const {
    const ByteView all = bytes_.view();
    return {all.first(kNn), all.subspan(kNn, kNn), all.subspan(2 * kNn, kNseed)};
  }

 private:
  static constexpr size_t kSize = 2 * kNn + kNseed;
  explicit LoginRandomness(Secret bytes) : bytes_(std::move(bytes)) {}
  Secret bytes_;
};

Status CheckSeed(const Secret& seed) {
  if (seed.size() != kNseed) return InvalidArgument("a login seed must be 32 bytes");
  return OkStatus();
}

// A stable fake record per identifier: an attacker probing the same unknown name twice sees
// the same OPRF key and the same kind of reply as for a registered user.
Result<ServerLogin> StartFakeWith(const ServerSetup& setup, ByteView oprf_seed,
                                  ByteView credential_identifier, const KE1& ke1,
                                  ByteView client_identity, ByteView context,
                                  const LoginRandomness& rnd) {
  CV_RETURN_IF_ERROR(CheckCredentialIdentifier(credential_identifier));
  Bytes info(credential_identifier.begin(), credential_identifier.end());
  Append(info, AsBytes("chatvault-FakeRecord"));
  Secret material = internal::Expand(oprf_seed, info, kNseed + kNh);
  CV_ASSIGN_OR_RETURN(internal::KeyPair fake_client,
                      internal::DeriveDiffieHellmanKeyPair(material.view().first(kNseed)));
  return Deterministic::StartFakeServerLogin(setup, fake_client.public_key,
                                             material.view().subspan(kNseed), credential_identifier,
                                             ke1, client_identity, context, rnd.View());
}

}  // namespace

Result<ServerLogin> ServerSetup::StartLogin(const RegistrationRecord& record,
                                            ByteView credential_identifier, const KE1& ke1,
                                            ByteView client_identity, ByteView context) const {
  const LoginRandomness rnd = LoginRandomness::Fresh();
  return Deterministic::StartServerLogin(*this, record, credential_identifier, ke1, client_identity,
                                         context, rnd.View());
}

Result<ServerLogin> ServerSetup::StartLoginSeeded(const RegistrationRecord& record,
                                                  ByteView credential_identifier, const KE1& ke1,
                                                  const Secret& seed) const {
  CV_RETURN_IF_ERROR(CheckSeed(seed));
  const LoginRandomness rnd = LoginRandomness::FromSeed(seed);
  return Deterministic::StartServerLogin(*this, record, credential_identifier, ke1, {},
                                         AsBytes(kChatvaultContext), rnd.View());
}

Result<ServerLogin> ServerSetup::StartFakeLogin(ByteView credential_identifier, const KE1& ke1,
                                                ByteView client_identity, ByteView context) const {
  return StartFakeWith(*this, oprf_seed_.view(), credential_identifier, ke1, client_identity,
                       context, LoginRandomness::Fresh());
}

Result<ServerLogin> ServerSetup::StartFakeLoginSeeded(ByteView credential_identifier,
                                                      const KE1& ke1, const Secret& seed) const {
  CV_RETURN_IF_ERROR(CheckSeed(seed));
  return StartFakeWith(*this, oprf_seed_.view(), credential_identifier, ke1, {},
                       AsBytes(kChatvaultContext), LoginRandomness::FromSeed(seed));
}

Secret ServerLogin::SerializeState() const {
  Secret state(kStateSize);
  if (expected_client_mac_.size() == kNm && session_key_.size() == kNx) {
    std::copy_n(expected_client_mac_.data(), kNm, state.data());
    std::copy_n(session_key_.data(), kNx, state.data() + kNm);
  }
  return state;
}

Result<ServerLogin> ServerLogin::ParseState(ByteView state) {
  if (state.size() != kStateSize) return InvalidArgument("a server login state has the wrong size");
  ServerLogin login;
  login.expected_client_mac_ = Secret::FromBytes(state.first(kNm));
  login.session_key_ = Secret::FromBytes(state.subspan(kNm));
  return login;
}

Result<Secret> ServerLogin::Finish(const KE3& ke3) && {
  if (expected_client_mac_.empty()) return Internal("this login was already finished");
  const bool ok = crypto::ConstantTimeEqual(expected_client_mac_.view(), ke3.client_mac);
  expected_client_mac_ = Secret();
  if (!ok) return PermissionDenied("login failed: wrong password or a tampered message");
  return std::move(session_key_);
}

}  // namespace chatvault::opaque
