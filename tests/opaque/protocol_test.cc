// Full registration and login with fresh randomness, then the adversarial cases: wrong password,
// wrong identities or KSF, every byte of KE2 and KE3 tampered, unknown users (fake KE2).
#include <gtest/gtest.h>

#include "chatvault/crypto/random.h"
#include "chatvault/opaque/client.h"
#include "chatvault/opaque/server.h"
#include "opaque/deterministic.h"
#include "support/status_matchers.h"

namespace chatvault::opaque {
namespace {

using ::chatvault::testing::IsOk;

const Bytes kUser = ToBytes("user-1234");
// Small Argon2id parameters keep the suite fast; production uses KsfParams::Default().
const KsfParams kKsf{KsfAlgorithm::kArgon2id, 256, 1, 1};

struct Registered {
  RegistrationRecord record;
  crypto::Secret export_key;
};

Registered Register(const ServerSetup& server, std::string_view password,
                    const Identities& ids = {}, const KsfParams& ksf = kKsf) {
  auto reg = ClientRegistration::Start(AsBytes(password));
  EXPECT_THAT(reg, IsOk());
  auto request = RegistrationRequest::Parse(reg->request().Serialize());
  EXPECT_THAT(request, IsOk());
  auto response = server.CreateRegistrationResponse(*request, kUser);
  EXPECT_THAT(response, IsOk());
  auto done = std::move(*reg).Finish(*response, ids, ksf);
  EXPECT_THAT(done, IsOk());
  return {done->record, std::move(done->export_key)};
}

TEST(Protocol, RegisterThenLogin) {
  const ServerSetup server = ServerSetup::Generate(AsBytes("vault.example"));
  const Identities ids{ToBytes("alice"), ToBytes("vault.example")};
  Registered r = Register(server, "correct horse", ids);

  auto login = ClientLogin::Start(AsBytes("correct horse"));
  ASSERT_THAT(login, IsOk());
  auto s = server.StartLogin(r.record, kUser, login->ke1(), ids.client);
  ASSERT_THAT(s, IsOk());
  auto c = std::move(*login).Finish(s->ke2(), ids, kKsf);
  ASSERT_THAT(c, IsOk());
  EXPECT_TRUE(c->export_key.Equals(r.export_key));
  EXPECT_EQ(c->export_key.size(), kNh);
  auto key = std::move(*s).Finish(c->ke3);
  ASSERT_THAT(key, IsOk());
  EXPECT_TRUE(key->Equals(c->session_key));
  EXPECT_EQ(key->size(), kNx);
}

TEST(Protocol, TwoLoginsGiveDifferentSessionKeysSameExportKey) {
  const ServerSetup server = ServerSetup::Generate();
  Registered r = Register(server, "pw");
  crypto::Secret first;
  for (int i = 0; i < 2; ++i) {
    auto login = ClientLogin::Start(AsBytes("pw"));
    auto s = server.StartLogin(r.record, kUser, login->ke1());
    auto c = std::move(*login).Finish(s->ke2(), {}, kKsf);
    ASSERT_THAT(c, IsOk());
    EXPECT_TRUE(c->export_key.Equals(r.export_key));
    if (i == 0)
      first = c->session_key.Clone();
    else
      EXPECT_FALSE(first.Equals(c->session_key));
  }
}

TEST(Protocol, WrongPasswordIsPermissionDenied) {
  const ServerSetup server = ServerSetup::Generate();
  Registered r = Register(server, "right");
  auto login = ClientLogin::Start(AsBytes("wrong"));
  auto s = server.StartLogin(r.record, kUser, login->ke1());
  ASSERT_THAT(s, IsOk());
  auto c = std::move(*login).Finish(s->ke2(), {}, kKsf);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), Code::kPermissionDenied);
  EXPECT_NE(c.status().message().find("wrong password"), std::string::npos);
}

TEST(Protocol, WrongKsfOrIdentitiesFail) {
  const ServerSetup server = ServerSetup::Generate();
  Registered r = Register(server, "pw");
  {
    auto login = ClientLogin::Start(AsBytes("pw"));
    auto s = server.StartLogin(r.record, kUser, login->ke1());
    auto c = std::move(*login).Finish(s->ke2(), {}, KsfParams{KsfAlgorithm::kArgon2id, 256, 2, 1});
    EXPECT_EQ(c.status().code(), Code::kPermissionDenied);
  }
  {
    auto login = ClientLogin::Start(AsBytes("pw"));
    auto s = server.StartLogin(r.record, kUser, login->ke1());
    auto c = std::move(*login).Finish(s->ke2(), {ToBytes("mallory"), {}}, kKsf);
    EXPECT_EQ(c.status().code(), Code::kPermissionDenied);
  }
  {
    // The server thinks the client has another identity: the client rejects the server MAC.
    auto login = ClientLogin::Start(AsBytes("pw"));
    auto s = server.StartLogin(r.record, kUser, login->ke1(), AsBytes("bob"));
    auto c = std::move(*login).Finish(s->ke2(), {}, kKsf);
    EXPECT_EQ(c.status().code(), Code::kPermissionDenied);
  }
  {
    // Another context string on the server side.
    auto login = ClientLogin::Start(AsBytes("pw"));
    auto s = server.StartLogin(r.record, kUser, login->ke1(), {}, AsBytes("other-app"));
    auto c = std::move(*login).Finish(s->ke2(), {}, kKsf);
    EXPECT_EQ(c.status().code(), Code::kPermissionDenied);
  }
}

TEST(Protocol, ServerFromAnotherSetupIsRejected) {
  const ServerSetup server = ServerSetup::Generate();
  const ServerSetup impostor = ServerSetup::Generate();
  Registered r = Register(server, "pw");
  auto login = ClientLogin::Start(AsBytes("pw"));
  auto s = impostor.StartLogin(r.record, kUser, login->ke1());
  ASSERT_THAT(s, IsOk());
  EXPECT_EQ(std::move(*login).Finish(s->ke2(), {}, kKsf).status().code(), Code::kPermissionDenied);
}

// Flip one bit in every byte of KE2: the client must never accept it. Uses the identity KSF
// because this runs 320 logins; the client state is rebuilt from fixed randomness each time so
// that KE1 stays the same.
ClientLogin FixedClient(std::string_view password) {
  Bytes b(32, 0);
  b[0] = 7;  // a small non-zero scalar is a valid blind
  auto login =
      Deterministic::StartLogin(AsBytes(password), b, Bytes(kNn, 0x11), Bytes(kNseed, 0x22));
  return std::move(*login);
}

// A user registered with the identity KSF, for the tests that run hundreds of logins, and the
// KE1 of FixedClient("pw"), so that a rebuilt client can finish any session Start() opens.
struct FastLogin {
  const ServerSetup server = ServerSetup::Generate();
  const KsfParams fast = KsfParams::IdentityForTests();
  const Registered registered = Register(server, "pw", {}, fast);
  const KE1 ke1 = FixedClient("pw").ke1();

  Result<ServerLogin> Start() const { return server.StartLogin(registered.record, kUser, ke1); }
};

TEST(Protocol, EveryTamperedKE2ByteIsRejected) {
  const FastLogin f;
  auto s = f.Start();
  ASSERT_THAT(s, IsOk());
  const Bytes good = s->ke2().Serialize();
  ASSERT_THAT(FixedClient("pw").Finish(s->ke2(), {}, f.fast), IsOk()) << "untampered KE2 must work";
  int parse_rejects = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    Bytes bad = good;
    bad[i] ^= static_cast<uint8_t>(1u << (i % 8));
    auto parsed = KE2::Parse(bad);
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument) << "byte " << i;
      ++parse_rejects;
      continue;
    }
    auto c = FixedClient("pw").Finish(*parsed, {}, f.fast);
    ASSERT_FALSE(c.ok()) << "tampered KE2 byte " << i << " was accepted";
    EXPECT_EQ(c.status().code(), Code::kPermissionDenied) << "byte " << i;
  }
  // Flips in the two group elements are mostly caught by the parser already.
  EXPECT_GT(parse_rejects, 0);
}

TEST(Protocol, EveryTamperedKE3ByteIsRejected) {
  const FastLogin f;
  auto first = f.Start();
  ASSERT_THAT(first, IsOk());
  auto c = FixedClient("pw").Finish(first->ke2(), {}, f.fast);
  ASSERT_THAT(c, IsOk());
  // Replaying a finished KE3 to a new server session fails too (new server nonce and share).
  auto replay = f.Start();
  EXPECT_EQ(std::move(*replay).Finish(c->ke3).status().code(), Code::kPermissionDenied);
  for (size_t i = 0; i < KE3::kSize; ++i) {
    auto s = f.Start();
    ASSERT_THAT(s, IsOk());
    // Each session gets a fresh server nonce, so re-run the client against it for a valid KE3.
    auto ok_client = FixedClient("pw").Finish(s->ke2(), {}, f.fast);
    ASSERT_THAT(ok_client, IsOk());
    KE3 bad = ok_client->ke3;
    bad.client_mac[i] ^= static_cast<uint8_t>(1u << (i % 8));
    auto key = std::move(*s).Finish(bad);
    ASSERT_FALSE(key.ok()) << "tampered KE3 byte " << i << " accepted";
    EXPECT_EQ(key.status().code(), Code::kPermissionDenied);
  }
  EXPECT_THAT(std::move(*first).Finish(c->ke3), IsOk());
}

TEST(Protocol, FinishTwiceFails) {
  const FastLogin f;
  auto s = f.Start();
  auto c = FixedClient("pw").Finish(s->ke2(), {}, f.fast);
  ASSERT_THAT(c, IsOk());
  ServerLogin& login = *s;
  ASSERT_THAT(std::move(login).Finish(c->ke3), IsOk());
  EXPECT_FALSE(std::move(login).Finish(c->ke3).ok());
}

TEST(Protocol, UnknownUserGetsConsistentFakeKE2) {
  const ServerSetup server = ServerSetup::Generate();
  const KE1 ke1 = FixedClient("guess").ke1();
  auto a = server.StartFakeLogin(AsBytes("nobody"), ke1);
  auto b = server.StartFakeLogin(AsBytes("nobody"), ke1);
  auto other = server.StartFakeLogin(AsBytes("someone-else"), ke1);
  ASSERT_THAT(a, IsOk());
  ASSERT_THAT(b, IsOk());
  ASSERT_THAT(other, IsOk());
  EXPECT_EQ(a->ke2().Serialize().size(), KE2::kSize);
  // Same OPRF evaluation for the same name, as for a real user; fresh nonces each time.
  EXPECT_EQ(a->ke2().evaluated_message, b->ke2().evaluated_message);
  EXPECT_NE(a->ke2().evaluated_message, other->ke2().evaluated_message);
  EXPECT_NE(a->ke2().masking_nonce, b->ke2().masking_nonce);
  // The client sees an ordinary wrong-password failure.
  auto c = FixedClient("guess").Finish(a->ke2(), {}, KsfParams::IdentityForTests());
  EXPECT_EQ(c.status().code(), Code::kPermissionDenied);
  // Whatever KE3 arrives, the fake session never authenticates.
  EXPECT_EQ(std::move(*b).Finish(KE3{}).status().code(), Code::kPermissionDenied);
}

// A seeded login answers the same KE1 with the same KE2 (a retried request costs no new guess),
// and its sealed state finishes the login in another process.
TEST(Protocol, SeededLoginIsRepeatableAndItsStateFinishesElsewhere) {
  const ServerSetup server = ServerSetup::Generate();
  Registered r = Register(server, "pw");
  const crypto::Secret seed = crypto::RandomSecret(kNseed);
  auto login = ClientLogin::Start(AsBytes("pw"));
  ASSERT_THAT(login, IsOk());
  auto first = server.StartLoginSeeded(r.record, kUser, login->ke1(), seed);
  auto again = server.StartLoginSeeded(r.record, kUser, login->ke1(), seed);
  auto other = server.StartLoginSeeded(r.record, kUser, login->ke1(), crypto::RandomSecret(kNseed));
  ASSERT_TRUE(first.ok() && again.ok() && other.ok());
  EXPECT_EQ(first->ke2().Serialize(), again->ke2().Serialize());
  EXPECT_NE(first->ke2().Serialize(), other->ke2().Serialize());

  auto c = std::move(*login).Finish(again->ke2(), {}, kKsf);
  ASSERT_THAT(c, IsOk());
  auto restored = ServerLogin::ParseState(first->SerializeState().view());
  ASSERT_THAT(restored, IsOk());
  auto key = std::move(*restored).Finish(c->ke3);
  ASSERT_THAT(key, IsOk());
  EXPECT_TRUE(key->Equals(c->session_key));

  KE3 wrong = c->ke3;
  wrong.client_mac[0] ^= 1;
  auto restored_again = ServerLogin::ParseState(first->SerializeState().view());
  EXPECT_EQ(std::move(*restored_again).Finish(wrong).status().code(), Code::kPermissionDenied);
  EXPECT_EQ(ServerLogin::ParseState(ByteView(first->SerializeState().view()).first(10)).status().code(),
            Code::kInvalidArgument);
  EXPECT_EQ(server.StartLoginSeeded(r.record, kUser, login->ke1(), crypto::RandomSecret(16))
                .status()
                .code(),
            Code::kInvalidArgument);
}

TEST(Protocol, SeededFakeLoginIsRepeatableAndNeverFinishes) {
  const ServerSetup server = ServerSetup::Generate();
  const crypto::Secret seed = crypto::RandomSecret(kNseed);
  auto login = ClientLogin::Start(AsBytes("pw"));
  ASSERT_THAT(login, IsOk());
  auto first = server.StartFakeLoginSeeded(kUser, login->ke1(), seed);
  auto again = server.StartFakeLoginSeeded(kUser, login->ke1(), seed);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->ke2().Serialize(), again->ke2().Serialize());
  EXPECT_FALSE(std::move(*login).Finish(first->ke2(), {}, kKsf).ok());
}

TEST(Protocol, BadInputsHaveClearErrors) {
  const ServerSetup server = ServerSetup::Generate();
  EXPECT_EQ(ClientRegistration::Start({}).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(ClientLogin::Start({}).status().code(), Code::kInvalidArgument);
  RegistrationRequest identity_request;  // all zeros = identity
  auto r = server.CreateRegistrationResponse(identity_request, kUser);
  EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("identity"), std::string::npos) << r.status().message();
  auto reg = ClientRegistration::Start(AsBytes("pw"));
  EXPECT_EQ(server.CreateRegistrationResponse(reg->request(), {}).status().code(),
            Code::kInvalidArgument);
  // A response carrying the identity as the server key.
  auto response = server.CreateRegistrationResponse(reg->request(), kUser);
  ASSERT_THAT(response, IsOk());
  RegistrationResponse bad = *response;
  bad.server_public_key = Element{};
  EXPECT_EQ(std::move(*reg).Finish(bad, {}, kKsf).status().code(), Code::kInvalidArgument);
  // A KE2 built in memory (not parsed) with an identity key share is still refused.
  Registered ok = Register(server, "pw", {}, KsfParams::IdentityForTests());
  auto s = server.StartLogin(ok.record, kUser, FixedClient("pw").ke1());
  KE2 ke2 = s->ke2();
  ke2.server_public_keyshare = Element{};
  EXPECT_EQ(FixedClient("pw").Finish(ke2, {}, KsfParams::IdentityForTests()).status().code(),
            Code::kInvalidArgument);
  KE1 ke1 = FixedClient("pw").ke1();
  ke1.client_public_keyshare = Element{};
  EXPECT_EQ(server.StartLogin(ok.record, kUser, ke1).status().code(), Code::kInvalidArgument);
}

TEST(Protocol, ServerSetupRoundTrip) {
  const ServerSetup server = ServerSetup::Generate(AsBytes("vault"));
  crypto::Secret wire = server.Serialize();
  auto back = ServerSetup::Parse(wire.view());
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->public_key(), server.public_key());
  EXPECT_EQ(back->identity(), ToBytes("vault"));
  // A user registered with the original logs in against the restored setup.
  const Identities ids{{}, ToBytes("vault")};
  Registered r = Register(server, "pw", ids, KsfParams::IdentityForTests());
  auto s = back->StartLogin(r.record, kUser, FixedClient("pw").ke1());
  EXPECT_THAT(FixedClient("pw").Finish(s->ke2(), ids, KsfParams::IdentityForTests()), IsOk());

  Bytes truncated(wire.view().begin(), wire.view().end() - 1);
  EXPECT_EQ(ServerSetup::Parse(truncated).status().code(), Code::kInvalidArgument);
  Bytes version(wire.view().begin(), wire.view().end());
  version[0] = 9;
  EXPECT_EQ(ServerSetup::Parse(version).status().code(), Code::kUnsupported);
  Bytes zero_key(wire.view().begin(), wire.view().end());
  std::fill(zero_key.begin() + 1 + kNh, zero_key.begin() + 1 + kNh + kNsk, 0);
  EXPECT_EQ(ServerSetup::Parse(zero_key).status().code(), Code::kInvalidArgument);
  Bytes unreduced(wire.view().begin(), wire.view().end());
  std::fill(unreduced.begin() + 1 + kNh, unreduced.begin() + 1 + kNh + kNsk, 0xff);
  unreduced[1 + kNh + kNsk - 1] = 0x1f;  // above the group order, below 2^253
  EXPECT_EQ(ServerSetup::Parse(unreduced).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace chatvault::opaque
