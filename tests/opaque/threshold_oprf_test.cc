// The threshold OPRF of the realms protocol: any t of n shares give the whole key's output, a
// wrong share is caught by its proof, and fewer than t shares do not give the key.
#include "chatvault/opaque/threshold_oprf.h"

#include <gtest/gtest.h>

#include <functional>

#include "support/status_matchers.h"

namespace chatvault::opaque {
namespace {

using ::chatvault::testing::IsOk;
using ::chatvault::testing::StatusIs;

// Every subset of {0..n-1} of size k, as index lists.
std::vector<std::vector<int>> Subsets(int n, int k) {
  std::vector<std::vector<int>> out;
  std::vector<int> cur;
  std::function<void(int)> go = [&](int from) {
    if (static_cast<int>(cur.size()) == k) {
      out.push_back(cur);
      return;
    }
    for (int i = from; i < n; ++i) {
      cur.push_back(i);
      go(i + 1);
      cur.pop_back();
    }
  };
  go(0);
  return out;
}

std::vector<ScalarShare> Pick(const std::vector<ScalarShare>& all, const std::vector<int>& which) {
  std::vector<ScalarShare> out;
  for (int i : which) out.push_back(ScalarShare{all[i].index, all[i].value.Clone()});
  return out;
}

class ThresholdOprf : public ::testing::TestWithParam<std::pair<int, int>> {};

TEST_P(ThresholdOprf, AnyTSharesGiveTheKeyAndFewerDoNot) {
  const auto [t, n] = GetParam();
  const crypto::Secret key = RandomScalar();
  auto shares = SplitScalar(key, t, n);
  ASSERT_THAT(shares, IsOk());
  ASSERT_EQ(shares->size(), static_cast<size_t>(n));
  for (const auto& subset : Subsets(n, t)) {
    auto combined = CombineScalars(Pick(*shares, subset));
    ASSERT_THAT(combined, IsOk());
    EXPECT_TRUE(combined->Equals(key));
  }
  if (t > 1) {
    for (const auto& subset : Subsets(n, t - 1)) {
      auto combined = CombineScalars(Pick(*shares, subset));
      ASSERT_THAT(combined, IsOk());
      EXPECT_FALSE(combined->Equals(key));
    }
  }
}

TEST_P(ThresholdOprf, AnyTCheckedEvaluationsGiveTheDirectOutput) {
  const auto [t, n] = GetParam();
  const crypto::Secret key = RandomScalar();
  auto shares = SplitScalar(key, t, n);
  ASSERT_THAT(shares, IsOk());
  const Bytes input = ToBytes("an access key derived from the password");
  auto direct = EvaluateDirectly(key, input);
  ASSERT_THAT(direct, IsOk());
  for (const auto& subset : Subsets(n, t)) {
    auto client = VoprfClient::Blind(input);
    ASSERT_THAT(client, IsOk());
    std::vector<EvaluatedShare> answers;
    for (int i : subset) {
      auto answer = EvaluateShare((*shares)[i], client->blinded());
      ASSERT_THAT(answer, IsOk());
      auto public_key = PublicKeyOf((*shares)[i].value);
      ASSERT_THAT(public_key, IsOk());
      EXPECT_THAT(VerifyShare(*public_key, client->blinded(), *answer), IsOk());
      answers.push_back(*answer);
    }
    auto combined = CombineShares(answers);
    ASSERT_THAT(combined, IsOk());
    auto output = client->Finalize(*combined);
    ASSERT_THAT(output, IsOk());
    EXPECT_TRUE(output->Equals(*direct));
  }
}

INSTANTIATE_TEST_SUITE_P(Sharings, ThresholdOprf,
                         ::testing::Values(std::pair{1, 1}, std::pair{2, 3}, std::pair{3, 5},
                                           std::pair{2, 2}, std::pair{4, 8}));

TEST(ThresholdOprfShares, AWrongAnswerIsCaughtByItsProof) {
  const crypto::Secret key = RandomScalar();
  auto shares = SplitScalar(key, 2, 3);
  auto other = SplitScalar(RandomScalar(), 2, 3);  // another registration's shares
  ASSERT_THAT(shares, IsOk());
  ASSERT_THAT(other, IsOk());
  auto client = VoprfClient::Blind(AsBytes("access key"));
  const Element public_key = *PublicKeyOf((*shares)[0].value);
  auto honest = EvaluateShare((*shares)[0], client->blinded());
  ASSERT_THAT(honest, IsOk());
  auto stale = EvaluateShare((*other)[0], client->blinded());
  EXPECT_THAT(VerifyShare(public_key, client->blinded(), *stale),
              StatusIs(Code::kPermissionDenied));
  EvaluatedShare forged = *honest;
  forged.evaluated = (*EvaluateShare((*shares)[1], client->blinded())).evaluated;
  EXPECT_THAT(VerifyShare(public_key, client->blinded(), forged),
              StatusIs(Code::kPermissionDenied));
  auto another_client = VoprfClient::Blind(AsBytes("access key"));
  EXPECT_THAT(VerifyShare(public_key, another_client->blinded(), *honest),
              StatusIs(Code::kPermissionDenied));
}

TEST(ThresholdOprfShares, BadSharingsAndCombinationsAreRefused) {
  const crypto::Secret key = RandomScalar();
  EXPECT_THAT(SplitScalar(key, 0, 3), StatusIs(Code::kInvalidArgument));
  EXPECT_THAT(SplitScalar(key, 4, 3), StatusIs(Code::kInvalidArgument));
  EXPECT_THAT(SplitScalar(key, 2, 256), StatusIs(Code::kInvalidArgument));
  EXPECT_THAT(SplitScalar(crypto::Secret(31), 2, 3), StatusIs(Code::kInvalidArgument));
  auto shares = SplitScalar(key, 2, 3);
  ASSERT_THAT(shares, IsOk());
  std::vector<ScalarShare> twice;
  twice.push_back(ScalarShare{(*shares)[0].index, (*shares)[0].value.Clone()});
  twice.push_back(ScalarShare{(*shares)[0].index, (*shares)[0].value.Clone()});
  EXPECT_THAT(CombineScalars(twice), StatusIs(Code::kInvalidArgument));
  EXPECT_THAT(CombineScalars({}), StatusIs(Code::kInvalidArgument));
  EXPECT_THAT(CombineShares({}), StatusIs(Code::kInvalidArgument));
}

}  // namespace
}  // namespace chatvault::opaque
