// RFC 9497 Appendix A.1.1: OPRF(ristretto255, SHA-512), mode 0.
#include <gtest/gtest.h>

#include "opaque/group.h"
#include "opaque/oprf.h"
#include "opaque/vector_file.h"
#include "support/status_matchers.h"

namespace chatvault::opaque::internal {
namespace {

using chatvault::testing::Hex;
using ::chatvault::testing::IsOk;
using chatvault::testing::ToVec;

TEST(OprfVectors, ContextAndKeyDerivation) {
  const auto doc = chatvault::testing::LoadOpaqueVectors("oprf-ristretto255-sha512-mode0.json");
  const auto& suite = doc.at("suite");
  Bytes dst = ToBytes("HashToGroup-");
  Append(dst, ContextString());
  EXPECT_EQ(HexEncode(dst), suite.at("groupDST").get<std::string>());

  auto kp = DeriveKeyPair(Hex(suite.at("seed").get<std::string>()),
                          Hex(suite.at("keyInfo").get<std::string>()));
  ASSERT_THAT(kp, IsOk());
  EXPECT_EQ(HexEncode(kp->private_key.view()), suite.at("skSm").get<std::string>());
}

TEST(OprfVectors, BlindEvaluateFinalize) {
  const auto doc = chatvault::testing::LoadOpaqueVectors("oprf-ristretto255-sha512-mode0.json");
  const auto& suite = doc.at("suite");
  const Bytes sk = Hex(suite.at("skSm").get<std::string>());
  int count = 0;
  for (const auto& v : suite.at("vectors")) {
    const Bytes input = Hex(v.at("Input").get<std::string>());
    const Bytes blind = Hex(v.at("Blind").get<std::string>());
    auto blinded = OprfBlind(input, blind);
    ASSERT_THAT(blinded, IsOk());
    EXPECT_EQ(HexEncode(*blinded), v.at("BlindedElement").get<std::string>());
    auto evaluated = OprfBlindEvaluate(sk, *blinded);
    ASSERT_THAT(evaluated, IsOk());
    EXPECT_EQ(HexEncode(*evaluated), v.at("EvaluationElement").get<std::string>());
    auto output = OprfFinalize(input, blind, *evaluated);
    ASSERT_THAT(output, IsOk());
    EXPECT_EQ(HexEncode(output->view()), v.at("Output").get<std::string>());
    ++count;
  }
  EXPECT_EQ(count, 2);
}

TEST(Oprf, RejectsIdentityAndZeroScalars) {
  const Element identity{};
  const Bytes one = Hex("0100000000000000000000000000000000000000000000000000000000000000");
  const Bytes zero(32, 0);
  EXPECT_EQ(OprfBlindEvaluate(one, identity).status().code(), Code::kInvalidArgument);
  EXPECT_FALSE(OprfBlind(AsBytes("pw"), zero).ok());
  auto blinded = OprfBlind(AsBytes("pw"), one);
  ASSERT_THAT(blinded, IsOk());
  EXPECT_FALSE(OprfFinalize(AsBytes("pw"), zero, *blinded).ok());
  EXPECT_FALSE(OprfFinalize(AsBytes("pw"), one, identity).ok());
  EXPECT_EQ(ScalarMultBase(zero).status().code(), Code::kInvalidArgument);
}

}  // namespace
}  // namespace chatvault::opaque::internal
