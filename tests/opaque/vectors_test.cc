// RFC 9807 Appendix C: OPAQUE-3DH, ristretto255-SHA512, KSF Identity. Every input, intermediate
// and output of the published vectors is reproduced.
#include <gtest/gtest.h>

#include "opaque/ake.h"
#include "opaque/deterministic.h"
#include "opaque/envelope.h"
#include "opaque/group.h"
#include "opaque/vector_file.h"
#include "support/status_matchers.h"

namespace chatvault::opaque {
namespace {

using chatvault::testing::HexField;
using ::chatvault::testing::IsOk;
using chatvault::testing::ToVec;
using nlohmann::json;

class RealVectors : public ::testing::TestWithParam<int> {};

TEST_P(RealVectors, ReproducesEveryValue) {
  const json doc =
      chatvault::testing::LoadOpaqueVectors("opaque-3dh-ristretto255-sha512-real.json");
  const json& v = doc.at("vectors").at(GetParam());
  const json& in = v.at("inputs");
  const json& mid = v.at("intermediates");
  const json& out = v.at("outputs");
  auto H = [](const json& o, const char* k) { return HexEncode(HexField(o, k)); };

  const Bytes context = HexField(v.at("config"), "Context");
  const Bytes password = HexField(in, "password");
  const Bytes cred_id = HexField(in, "credential_identifier");
  const Identities ids{HexField(in, "client_identity"), HexField(in, "server_identity")};
  const KsfParams ksf = KsfParams::IdentityForTests();

  auto setup = Deterministic::MakeSetup(HexField(in, "oprf_seed"),
                                        HexField(in, "server_private_key"), ids.server);
  ASSERT_THAT(setup, IsOk());
  EXPECT_EQ(HexEncode(setup->public_key()), H(in, "server_public_key"));

  // Registration.
  auto oprf_key = internal::DeriveOprfKey(HexField(in, "oprf_seed"), cred_id);
  ASSERT_THAT(oprf_key, IsOk());
  EXPECT_EQ(HexEncode(oprf_key->view()), H(mid, "oprf_key"));

  auto reg = Deterministic::StartRegistration(password, HexField(in, "blind_registration"));
  ASSERT_THAT(reg, IsOk());
  EXPECT_EQ(HexEncode(reg->request().Serialize()), H(out, "registration_request"));

  auto response = setup->CreateRegistrationResponse(reg->request(), cred_id);
  ASSERT_THAT(response, IsOk());
  EXPECT_EQ(HexEncode(response->Serialize()), H(out, "registration_response"));

  auto rp = internal::RandomizedPassword(password, HexField(in, "blind_registration"),
                                         response->evaluated_message, ksf);
  ASSERT_THAT(rp, IsOk());
  EXPECT_EQ(HexEncode(rp->view()), H(mid, "randomized_password"));
  auto stored = internal::StoreEnvelope(*rp, response->server_public_key, ids,
                                        HexField(in, "envelope_nonce"));
  ASSERT_THAT(stored, IsOk());
  EXPECT_EQ(HexEncode(stored->auth_key.view()), H(mid, "auth_key"));
  EXPECT_EQ(HexEncode(stored->masking_key.view()), H(mid, "masking_key"));
  EXPECT_EQ(HexEncode(stored->envelope), H(mid, "envelope"));
  EXPECT_EQ(HexEncode(stored->client_public_key), H(mid, "client_public_key"));

  auto registered = Deterministic::FinishRegistration(std::move(*reg), *response, ids, ksf,
                                                      HexField(in, "envelope_nonce"));
  ASSERT_THAT(registered, IsOk());
  EXPECT_EQ(HexEncode(registered->record.Serialize()), H(out, "registration_upload"));
  EXPECT_EQ(HexEncode(registered->export_key.view()), H(out, "export_key"));

  // Login.
  auto login =
      Deterministic::StartLogin(password, HexField(in, "blind_login"), HexField(in, "client_nonce"),
                                HexField(in, "client_keyshare_seed"));
  ASSERT_THAT(login, IsOk());
  EXPECT_EQ(HexEncode(login->ke1().Serialize()), H(out, "KE1"));
  auto ke1 = KE1::Parse(login->ke1().Serialize());
  ASSERT_THAT(ke1, IsOk());

  const Bytes masking_nonce = HexField(in, "masking_nonce");
  const Bytes server_nonce = HexField(in, "server_nonce");
  const Bytes server_seed = HexField(in, "server_keyshare_seed");
  auto server =
      Deterministic::StartServerLogin(*setup, registered->record, cred_id, *ke1, ids.client,
                                      context, {masking_nonce, server_nonce, server_seed});
  ASSERT_THAT(server, IsOk());
  EXPECT_EQ(HexEncode(server->ke2().Serialize()), H(out, "KE2"));
  auto ke2 = KE2::Parse(server->ke2().Serialize());
  ASSERT_THAT(ke2, IsOk());

  // The 3DH intermediates, recomputed from the server's side.
  auto server_share = internal::DeriveDiffieHellmanKeyPair(server_seed);
  ASSERT_THAT(server_share, IsOk());
  auto creds = internal::MakeCleartextCredentials(setup->public_key(),
                                                  registered->record.client_public_key, ids);
  ASSERT_THAT(creds, IsOk());
  auto preamble =
      internal::Preamble(context, creds->client_identity, *ke1, creds->server_identity, *ke2);
  ASSERT_THAT(preamble, IsOk());
  Bytes ikm;
  const Bytes server_sk = HexField(in, "server_private_key");
  Append(ikm, *internal::ScalarMult(server_share->private_key.view(), ke1->client_public_keyshare));
  Append(ikm, *internal::ScalarMult(server_sk, ke1->client_public_keyshare));
  Append(ikm, *internal::ScalarMult(server_share->private_key.view(),
                                    registered->record.client_public_key));
  internal::AkeKeys keys = internal::DeriveAkeKeys(ikm, *preamble);
  EXPECT_EQ(HexEncode(keys.handshake_secret.view()), H(mid, "handshake_secret"));
  EXPECT_EQ(HexEncode(keys.server_mac_key.view()), H(mid, "server_mac_key"));
  EXPECT_EQ(HexEncode(keys.client_mac_key.view()), H(mid, "client_mac_key"));

  auto finished = Deterministic::FinishLogin(std::move(*login), *ke2, ids, ksf, context);
  ASSERT_THAT(finished, IsOk());
  EXPECT_EQ(HexEncode(finished->ke3.Serialize()), H(out, "KE3"));
  EXPECT_EQ(HexEncode(finished->session_key.view()), H(out, "session_key"));
  EXPECT_EQ(HexEncode(finished->export_key.view()), H(out, "export_key"));

  auto ke3 = KE3::Parse(finished->ke3.Serialize());
  ASSERT_THAT(ke3, IsOk());
  auto server_key = std::move(*server).Finish(*ke3);
  ASSERT_THAT(server_key, IsOk());
  EXPECT_EQ(HexEncode(server_key->view()), H(out, "session_key"));
}

INSTANTIATE_TEST_SUITE_P(Rfc9807C1, RealVectors, ::testing::Values(0, 1));

TEST(FakeVectors, ReproducesKE2ForUnknownUser) {
  const json doc =
      chatvault::testing::LoadOpaqueVectors("opaque-3dh-ristretto255-sha512-fake.json");
  int count = 0;
  for (const json& v : doc.at("vectors")) {
    const json& in = v.at("inputs");
    const Bytes context = HexField(v.at("config"), "Context");
    auto setup =
        Deterministic::MakeSetup(HexField(in, "oprf_seed"), HexField(in, "server_private_key"),
                                 HexField(in, "server_identity"));
    ASSERT_THAT(setup, IsOk());
    EXPECT_EQ(HexEncode(setup->public_key()), HexEncode(HexField(in, "server_public_key")));
    // The fake record's client key pair is consistent with the vector's inputs.
    auto client_pk = internal::ScalarMultBase(HexField(in, "client_private_key"));
    ASSERT_THAT(client_pk, IsOk());
    EXPECT_EQ(HexEncode(*client_pk), HexEncode(HexField(in, "client_public_key")));

    auto ke1 = KE1::Parse(HexField(in, "KE1"));
    ASSERT_THAT(ke1, IsOk());
    const Bytes masking_nonce = HexField(in, "masking_nonce");
    const Bytes server_nonce = HexField(in, "server_nonce");
    const Bytes server_seed = HexField(in, "server_keyshare_seed");
    auto server = Deterministic::StartFakeServerLogin(
        *setup, *client_pk, HexField(in, "masking_key"), HexField(in, "credential_identifier"),
        *ke1, HexField(in, "client_identity"), context, {masking_nonce, server_nonce, server_seed});
    ASSERT_THAT(server, IsOk());
    EXPECT_EQ(HexEncode(server->ke2().Serialize()), HexEncode(HexField(v.at("outputs"), "KE2")));
    ++count;
  }
  EXPECT_GE(count, 1);
}

}  // namespace
}  // namespace chatvault::opaque
