#include "chatvault/opaque/threshold_oprf.h"

#include <sodium.h>

#include <algorithm>
#include <set>

#include "chatvault/crypto/random.h"
#include "opaque/dleq.h"
#include "opaque/group.h"
#include "opaque/oprf.h"

namespace chatvault::opaque {
namespace {

using internal::OprfMode;

crypto::Secret IndexScalar(uint8_t index) {
  crypto::Secret s(kOprfScalarSize);
  s.data()[0] = index;
  return s;
}

// f(x) for the polynomial with coefficients c[0] + c[1] x + ... (Horner).
crypto::Secret EvaluatePolynomial(const std::vector<crypto::Secret>& coefficients, uint8_t x) {
  const crypto::Secret xs = IndexScalar(x);
  crypto::Secret acc = coefficients.back().Clone();
  for (size_t i = coefficients.size() - 1; i-- > 0;) {
    acc = internal::ScalarAdd(internal::ScalarMul(acc.view(), xs.view()).view(),
                              coefficients[i].view());
  }
  return acc;
}

Status CheckIndexes(const std::vector<uint8_t>& indexes) {
  if (indexes.empty()) return InvalidArgument("no shares to combine");
  const std::set<uint8_t> distinct(indexes.begin(), indexes.end());
  if (distinct.size() != indexes.size() || distinct.count(0) != 0) {
    return InvalidArgument("shares to combine need distinct, non-zero indexes");
  }
  return OkStatus();
}

// The Lagrange coefficient at 0 of the share at `indexes[i]` among `indexes`:
// prod_{j != i} x_j / (x_j - x_i).
Result<crypto::Secret> LagrangeAtZero(const std::vector<uint8_t>& indexes, size_t i) {
  crypto::Secret numerator = IndexScalar(1);
  crypto::Secret denominator = IndexScalar(1);
  const crypto::Secret xi = IndexScalar(indexes[i]);
  for (size_t j = 0; j < indexes.size(); ++j) {
    if (j == i) continue;
    const crypto::Secret xj = IndexScalar(indexes[j]);
    numerator = internal::ScalarMul(numerator.view(), xj.view());
    denominator =
        internal::ScalarMul(denominator.view(), internal::ScalarSub(xj.view(), xi.view()).view());
  }
  CV_ASSIGN_OR_RETURN(crypto::Secret inverse, internal::ScalarInvert(denominator.view()));
  return internal::ScalarMul(numerator.view(), inverse.view());
}

template <typename Share>
std::vector<uint8_t> IndexesOf(const std::vector<Share>& shares) {
  std::vector<uint8_t> indexes;
  for (const Share& s : shares) indexes.push_back(s.index);
  return indexes;
}

}  // namespace

crypto::Secret RandomScalar() { return internal::RandomScalar(); }

Result<crypto::Secret> ScalarFromSeed(const crypto::Secret& seed, std::string_view info) {
  return internal::DeriveScalar(seed.view(), AsBytes(info));
}

bool IsScalar(ByteView bytes) {
  return bytes.size() == kOprfScalarSize && internal::IsCanonicalScalar(bytes) &&
         !std::all_of(bytes.begin(), bytes.end(), [](uint8_t b) { return b == 0; });
}

Result<Element> PublicKeyOf(const crypto::Secret& scalar) {
  return internal::ScalarMultBase(scalar.view());
}

Result<std::vector<ScalarShare>> SplitScalar(const crypto::Secret& secret, int t, int n) {
  if (t < 1 || n < t || n > static_cast<int>(kMaxShares)) {
    return InvalidArgument("a sharing needs 1 <= t <= n <= 255");
  }
  if (secret.size() != kOprfScalarSize || !internal::IsCanonicalScalar(secret.view())) {
    return InvalidArgument("only a reduced 32-byte scalar can be shared");
  }
  std::vector<crypto::Secret> coefficients;
  coefficients.push_back(secret.Clone());
  for (int i = 1; i < t; ++i) coefficients.push_back(internal::RandomScalar());
  std::vector<ScalarShare> shares;
  for (int x = 1; x <= n; ++x) {
    shares.push_back(ScalarShare{static_cast<uint8_t>(x),
                                 EvaluatePolynomial(coefficients, static_cast<uint8_t>(x))});
  }
  return shares;
}

Result<crypto::Secret> CombineScalars(const std::vector<ScalarShare>& shares) {
  const std::vector<uint8_t> indexes = IndexesOf(shares);
  CV_RETURN_IF_ERROR(CheckIndexes(indexes));
  crypto::Secret sum(kOprfScalarSize);
  for (size_t i = 0; i < shares.size(); ++i) {
    CV_ASSIGN_OR_RETURN(crypto::Secret lambda, LagrangeAtZero(indexes, i));
    sum = internal::ScalarAdd(sum.view(),
                              internal::ScalarMul(lambda.view(), shares[i].value.view()).view());
  }
  return sum;
}

Result<EvaluatedShare> EvaluateShare(const ScalarShare& share, const Element& blinded) {
  CV_RETURN_IF_ERROR(internal::CheckElement(blinded, "blinded element"));
  CV_ASSIGN_OR_RETURN(Element public_key, internal::ScalarMultBase(share.value.view()));
  EvaluatedShare out;
  out.index = share.index;
  CV_ASSIGN_OR_RETURN(out.evaluated, internal::OprfBlindEvaluate(share.value.view(), blinded));
  const std::array<Element, 1> c{blinded}, d{out.evaluated};
  const crypto::Secret r = internal::RandomScalar();
  CV_ASSIGN_OR_RETURN(
      out.proof, internal::GenerateProof(share.value.view(), internal::Generator(), public_key, c,
                                         d, r.view(), OprfMode::kVoprf));
  return out;
}

Status VerifyShare(const Element& public_key, const Element& blinded, const EvaluatedShare& share) {
  CV_RETURN_IF_ERROR(internal::CheckElement(public_key, "a share's public key"));
  if (!internal::IsValidElement(share.evaluated)) {
    return PermissionDenied("the evaluation is not a valid group element");
  }
  const std::array<Element, 1> c{blinded}, d{share.evaluated};
  return internal::VerifyProof(internal::Generator(), public_key, c, d, share.proof,
                               OprfMode::kVoprf);
}

Result<Element> CombineShares(const std::vector<EvaluatedShare>& shares) {
  const std::vector<uint8_t> indexes = IndexesOf(shares);
  CV_RETURN_IF_ERROR(CheckIndexes(indexes));
  std::optional<Element> sum;
  for (size_t i = 0; i < shares.size(); ++i) {
    CV_ASSIGN_OR_RETURN(crypto::Secret lambda, LagrangeAtZero(indexes, i));
    CV_ASSIGN_OR_RETURN(Element term, internal::ScalarMult(lambda.view(), shares[i].evaluated));
    if (sum) {
      CV_ASSIGN_OR_RETURN(sum, internal::ElementAdd(*sum, term));
    } else {
      sum = term;
    }
  }
  return *sum;
}

Result<VoprfClient> VoprfClient::Blind(ByteView input) {
  VoprfClient client;
  client.input_ = crypto::Secret::FromBytes(input);
  client.blind_ = internal::RandomScalar();
  CV_ASSIGN_OR_RETURN(client.blinded_,
                      internal::OprfBlind(input, client.blind_.view(), OprfMode::kVoprf));
  return client;
}

Result<crypto::Secret> VoprfClient::Finalize(const Element& evaluated) const {
  return internal::OprfFinalize(input_.view(), blind_.view(), evaluated);
}

Result<crypto::Secret> EvaluateDirectly(const crypto::Secret& key, ByteView input) {
  // Finalize with blind 1: HashToGroup(input) evaluated under k.
  const crypto::Secret one = IndexScalar(1);
  CV_ASSIGN_OR_RETURN(Element element, internal::OprfBlind(input, one.view(), OprfMode::kVoprf));
  CV_ASSIGN_OR_RETURN(Element evaluated, internal::OprfBlindEvaluate(key.view(), element));
  return internal::OprfFinalize(input, one.view(), evaluated);
}

}  // namespace chatvault::opaque
