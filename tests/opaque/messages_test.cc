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

// Where a group element field starts in the wire form, and its name in Parse()'s error.
struct ElementAt {
  size_t offset;
  const char* name;
};

// What every message must do: serialize to its RFC 9807 size, parse back to the same bytes,
// refuse every other length, and refuse a bad encoding in each of its group element fields.
template <typename M>
void ExpectWireForm(const M& m, size_t rfc_size, std::initializer_list<ElementAt> elements) {
  const Bytes wire = m.Serialize();
  ASSERT_EQ(wire.size(), rfc_size);
  auto back = M::Parse(wire);
  ASSERT_THAT(back, IsOk());
  EXPECT_EQ(back->Serialize(), wire);
  ExpectLengthChecked<M>(wire);
  for (const ElementAt& e : elements) ExpectElementFieldChecked<M>(wire, e.offset, e.name);
}

TEST(Messages, RegistrationRequest) {
  RegistrationRequest m;
  m.blinded_message = ValidPoint();
  ExpectWireForm(m, 32u, {{0, "blinded element"}});
}

TEST(Messages, RegistrationResponse) {
  RegistrationResponse m;
  m.evaluated_message = ValidPoint();
  m.server_public_key = ValidPoint();
  ExpectWireForm(m, 64u, {{0, "evaluated element"}, {32, "server public key"}});
}

TEST(Messages, RegistrationRecord) {
  RegistrationRecord m;
  m.client_public_key = ValidPoint();
  crypto::RandomFill(m.masking_key);
  crypto::RandomFill(m.envelope);
  ExpectWireForm(m, 192u, {{0, "client public key"}});
}

TEST(Messages, KE1) {
  KE1 m;
  m.blinded_message = ValidPoint();
  crypto::RandomFill(m.client_nonce);
  m.client_public_keyshare = ValidPoint();
  ExpectWireForm(m, 96u, {{0, "blinded element"}, {64, "client key share"}});
}

TEST(Messages, KE2) {
  KE2 m;
  m.evaluated_message = ValidPoint();
  crypto::RandomFill(m.masking_nonce);
  crypto::RandomFill(m.masked_response);
  crypto::RandomFill(m.server_nonce);
  m.server_public_keyshare = ValidPoint();
  crypto::RandomFill(m.server_mac);
  ExpectWireForm(m, 320u, {{0, "evaluated element"}, {32 + 32 + 128 + 32, "server key share"}});
}

TEST(Messages, KE3) {
  KE3 m;
  crypto::RandomFill(m.client_mac);
  ExpectWireForm(m, 64u, {});
}

}  // namespace
}  // namespace chatvault::opaque
