// Parsers: exact lengths, canonical non-identity elements, round trips.
#include "chatvault/opaque/messages.h"

#include <gtest/gtest.h>

#include "chatvault/crypto/random.h"
#include "opaque/group.h"
#include "support/status_matchers.h"
#include "support/test_hex.h"

namespace chatvault::opaque {
namespace {

using chatvault::testing::Hex;
using ::chatvault::testing::IsOk;

Element ValidPoint() {
  auto p = internal::ScalarMultBase(internal::RandomScalar().view());
  return *p;
}

// Encodings that must never be accepted as group elements.
std::vector<std::pair<const char*, Bytes>> BadElements() {
  return {
      {"identity", Bytes(32, 0)},
      // the identity with bit 255 set: libsodium 1.0.18 alone would decode it (fuzzer finding)
      {"identity with high bit",
       Hex("0000000000000000000000000000000000000000000000000000000000000080")},
      // a valid point with bit 255 set
      {"high bit", Hex("e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2df6")},
      // p = 2^255 - 19 itself (not reduced)
      {"non-canonical p", Hex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f")},
      // all ones: above p and with the sign bit set
      {"all ones", Bytes(32, 0xff)},
      // a "negative" field element (odd), which ristretto255 never outputs
      {"negative", Hex("0100000000000000000000000000000000000000000000000000000000000000")},
      // RFC 9496 A.2 lists this as a non-square x^2 encoding
      {"not on curve", Hex("26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371")},
  };
}

template <typename M>
void ExpectElementFieldChecked(const Bytes& good, size_t offset, const char* what) {
  for (const auto& [name, bad] : BadElements()) {
    Bytes wire = good;
    std::copy(bad.begin(), bad.end(), wire.begin() + static_cast<std::ptrdiff_t>(offset));
    auto parsed = M::Parse(wire);
    EXPECT_FALSE(parsed.ok()) << what << " accepted " << name;
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.status().code(), Code::kInvalidArgument);
      EXPECT_NE(parsed.status().message().find(what), std::string::npos)
          << parsed.status().message();
    }
  }
}

template <typename M>
void ExpectLengthChecked(const Bytes& good) {
  Bytes shorter(good.begin(), good.end() - 1);
  Bytes longer = good;
  longer.push_back(0);
  EXPECT_EQ(M::Parse(shorter).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(M::Parse(longer).status().code(), Code::kInvalidArgument);
  EXPECT_EQ(M::Parse({}).status().code(), Code::kInvalidArgument);
}

TEST(Messages, RegistrationRequest) {
  RegistrationRequest m;
  m.blinded_message = ValidPoint();
  const Bytes wire = m.Serialize();
  ASSERT_EQ(wire.size(), RegistrationRequest::kSize);
  ASSERT_THAT(RegistrationRequest::Parse(wire), IsOk());
  ExpectLengthChecked<RegistrationRequest>(wire);
  ExpectElementFieldChecked<RegistrationRequest>(wire, 0, "blinded element");
}

TEST(Messages, RegistrationResponse) {
  RegistrationResponse m;
  m.evaluated_message = ValidPoint();
  m.server_public_key = ValidPoint();
  const Bytes wire = m.Serialize();
  ASSERT_EQ(wire.size(), 64u);
  auto back = RegistrationResponse::Parse(wire);
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->Serialize(), wire);
  ExpectLengthChecked<RegistrationResponse>(wire);
  ExpectElementFieldChecked<RegistrationResponse>(wire, 0, "evaluated element");
  ExpectElementFieldChecked<RegistrationResponse>(wire, 32, "server public key");
}

TEST(Messages, RegistrationRecord) {
  RegistrationRecord m;
  m.client_public_key = ValidPoint();
  crypto::RandomFill(m.masking_key);
  crypto::RandomFill(m.envelope);
  const Bytes wire = m.Serialize();
  ASSERT_EQ(wire.size(), 192u);
  auto back = RegistrationRecord::Parse(wire);
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->Serialize(), wire);
  ExpectLengthChecked<RegistrationRecord>(wire);
  ExpectElementFieldChecked<RegistrationRecord>(wire, 0, "client public key");
}

TEST(Messages, KE1) {
  KE1 m;
  m.blinded_message = ValidPoint();
  crypto::RandomFill(m.client_nonce);
  m.client_public_keyshare = ValidPoint();
  const Bytes wire = m.Serialize();
  ASSERT_EQ(wire.size(), 96u);
  auto back = KE1::Parse(wire);
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->Serialize(), wire);
  ExpectLengthChecked<KE1>(wire);
  ExpectElementFieldChecked<KE1>(wire, 0, "blinded element");
  ExpectElementFieldChecked<KE1>(wire, 64, "client key share");
}

TEST(Messages, KE2) {
  KE2 m;
  m.evaluated_message = ValidPoint();
  crypto::RandomFill(m.masking_nonce);
  crypto::RandomFill(m.masked_response);
  crypto::RandomFill(m.server_nonce);
  m.server_public_keyshare = ValidPoint();
  crypto::RandomFill(m.server_mac);
  const Bytes wire = m.Serialize();
  ASSERT_EQ(wire.size(), 320u);
  auto back = KE2::Parse(wire);
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->Serialize(), wire);
  ExpectLengthChecked<KE2>(wire);
  ExpectElementFieldChecked<KE2>(wire, 0, "evaluated element");
  ExpectElementFieldChecked<KE2>(wire, 32 + 32 + 128 + 32, "server key share");
}

TEST(Messages, KE3) {
  KE3 m;
  crypto::RandomFill(m.client_mac);
  const Bytes wire = m.Serialize();
  ASSERT_EQ(wire.size(), 64u);
  auto back = KE3::Parse(wire);
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->Serialize(), wire);
  ExpectLengthChecked<KE3>(wire);
}

}  // namespace
}  // namespace chatvault::opaque
