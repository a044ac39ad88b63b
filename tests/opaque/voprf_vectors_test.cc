// RFC 9497 Appendix A.1.2: VOPRF(ristretto255, SHA-512), mode 1, with the DLEQ proofs the realms
// protocol relies on (docs/REALMS.md).
#include <gtest/gtest.h>

#include <vector>

#include "opaque/dleq.h"
#include "opaque/group.h"
#include "opaque/oprf.h"
#include "opaque/vector_file.h"
#include "support/status_matchers.h"

namespace chatvault::opaque::internal {
namespace {

using chatvault::testing::Hex;
using ::chatvault::testing::IsOk;
using ::chatvault::testing::StatusIs;

const nlohmann::json& VoprfSuite() {
  static const nlohmann::json kSuite = [] {
    for (const auto& suite :
         chatvault::testing::LoadOpaqueVectors("upstream-voprf-allVectors.json")) {
      if (suite.at("identifier") == "ristretto255-SHA512" && suite.at("mode") == 1) return suite;
    }
    return nlohmann::json();
  }();
  return kSuite;
}

Element ElementFrom(const std::string& hex) {
  Element e{};
  const Bytes b = Hex(hex);
  std::copy(b.begin(), b.end(), e.begin());
  return e;
}

std::vector<std::string> SplitCommas(const std::string& text) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t comma; (comma = text.find(',', start)) != std::string::npos; start = comma + 1) {
    parts.push_back(text.substr(start, comma - start));
  }
  parts.push_back(text.substr(start));
  return parts;
}

TEST(VoprfVectors, ContextKeyAndPublicKey) {
  const auto& suite = VoprfSuite();
  ASSERT_FALSE(suite.is_null());
  EXPECT_EQ(HexEncode(ModeDst("HashToGroup-", OprfMode::kVoprf)), suite.at("groupDST"));
  const Bytes sk = Hex(suite.at("skSm").get<std::string>());
  auto pk = ScalarMultBase(sk);
  ASSERT_THAT(pk, IsOk());
  EXPECT_EQ(HexEncode(*pk), suite.at("pkSm"));
}

// Every vector, single and batched: blind, evaluate, the proof with the RFC's r, its
// verification, and the output.
TEST(VoprfVectors, BlindEvaluateProveVerifyFinalize) {
  const auto& suite = VoprfSuite();
  const Bytes sk = Hex(suite.at("skSm").get<std::string>());
  const Element pk = ElementFrom(suite.at("pkSm"));
  int checked = 0;
  for (const auto& v : suite.at("vectors")) {
    const auto inputs = SplitCommas(v.at("Input"));
    const auto blinds = SplitCommas(v.at("Blind"));
    const auto blinded_hex = SplitCommas(v.at("BlindedElement"));
    const auto evaluated_hex = SplitCommas(v.at("EvaluationElement"));
    const auto outputs = SplitCommas(v.at("Output"));
    std::vector<Element> blinded, evaluated;
    for (size_t i = 0; i < inputs.size(); ++i) {
      auto b = OprfBlind(Hex(inputs[i]), Hex(blinds[i]), OprfMode::kVoprf);
      ASSERT_THAT(b, IsOk());
      EXPECT_EQ(HexEncode(*b), blinded_hex[i]);
      auto e = OprfBlindEvaluate(sk, *b);
      ASSERT_THAT(e, IsOk());
      EXPECT_EQ(HexEncode(*e), evaluated_hex[i]);
      auto out = OprfFinalize(Hex(inputs[i]), Hex(blinds[i]), *e);
      ASSERT_THAT(out, IsOk());
      EXPECT_EQ(HexEncode(out->view()), outputs[i]);
      blinded.push_back(*b);
      evaluated.push_back(*e);
    }
    auto proof = GenerateProof(sk, Generator(), pk, blinded, evaluated,
                               Hex(v.at("Proof").at("r").get<std::string>()), OprfMode::kVoprf);
    ASSERT_THAT(proof, IsOk());
    EXPECT_EQ(HexEncode(*proof), v.at("Proof").at("proof"));
    EXPECT_THAT(VerifyProof(Generator(), pk, blinded, evaluated, *proof, OprfMode::kVoprf), IsOk());
    ++checked;
  }
  EXPECT_EQ(checked, 3);
}

TEST(Dleq, AWrongEvaluationOrKeyOrProofFails) {
  const crypto::Secret k = RandomScalar();
  const Element pk = *ScalarMultBase(k.view());
  const Element blinded = *OprfBlind(AsBytes("pw"), RandomScalar().view(), OprfMode::kVoprf);
  const Element evaluated = *OprfBlindEvaluate(k.view(), blinded);
  const std::vector<Element> c{blinded}, d{evaluated};
  auto proof =
      GenerateProof(k.view(), Generator(), pk, c, d, RandomScalar().view(), OprfMode::kVoprf);
  ASSERT_THAT(proof, IsOk());
  EXPECT_THAT(VerifyProof(Generator(), pk, c, d, *proof, OprfMode::kVoprf), IsOk());
  // Another key's evaluation, another public key, a flipped proof byte, the other mode.
  const crypto::Secret other = RandomScalar();
  const std::vector<Element> wrong{*OprfBlindEvaluate(other.view(), blinded)};
  EXPECT_THAT(VerifyProof(Generator(), pk, c, wrong, *proof, OprfMode::kVoprf),
              StatusIs(Code::kPermissionDenied));
  EXPECT_THAT(
      VerifyProof(Generator(), *ScalarMultBase(other.view()), c, d, *proof, OprfMode::kVoprf),
      StatusIs(Code::kPermissionDenied));
  Proof flipped = *proof;
  flipped[40] ^= 1;
  EXPECT_THAT(VerifyProof(Generator(), pk, c, d, flipped, OprfMode::kVoprf),
              StatusIs(Code::kPermissionDenied));
  EXPECT_THAT(VerifyProof(Generator(), pk, c, d, *proof, OprfMode::kOprf),
              StatusIs(Code::kPermissionDenied));
  Proof out_of_range = *proof;
  std::fill(out_of_range.begin(), out_of_range.begin() + 32, 0xff);
  EXPECT_THAT(VerifyProof(Generator(), pk, c, d, out_of_range, OprfMode::kVoprf),
              StatusIs(Code::kPermissionDenied));
}

}  // namespace
}  // namespace chatvault::opaque::internal
