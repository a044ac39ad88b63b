// A threshold OPRF for the realms protocol (docs/REALMS.md), on RFC 9497's verifiable mode
// (VOPRF, ristretto255-SHA512).
//
// The OPRF key k exists only as Shamir shares k_i = f(i) of a random polynomial f of degree t-1
// with f(0) = k, one per realm; any t-1 of them say nothing about k. A realm evaluates the
// client's blinded element with its share and proves, with RFC 9497's DLEQ proof, that it used
// the share whose public key k_i*G the client was given at registration: a wrong answer is
// detected and named, never combined. Any t checked evaluations combine into k*blinded by
// Lagrange interpolation in the exponent, and the client unblinds and finalizes as RFC 9497 says.
//
// The same sharing splits other scalars (the realms protocol also shares an encryption scalar).
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/opaque/messages.h"

namespace chatvault::opaque {

inline constexpr size_t kOprfScalarSize = 32;
inline constexpr size_t kOprfProofSize = 64;
inline constexpr size_t kMaxShares = 255;

// A share of a scalar: its value at x = index (1..255).
struct ScalarShare {
  uint8_t index = 0;
  crypto::Secret value;
};

// A uniformly random non-zero scalar (an OPRF key, an encryption scalar).
crypto::Secret RandomScalar();
// A non-zero scalar that `seed` and `info` always give (RFC 9497's DeriveKeyPair): a realm's
// stand-in share for an account it holds nothing for, the same at every request.
Result<crypto::Secret> ScalarFromSeed(const crypto::Secret& seed, std::string_view info);
// True for 32 bytes that are a reduced, non-zero scalar.
bool IsScalar(ByteView bytes);
// k*G: the public key of a scalar (of a key share, for the realm's proofs).
Result<Element> PublicKeyOf(const crypto::Secret& scalar);

// n shares of `secret`, any t of which rebuild it (1 <= t <= n <= 255).
Result<std::vector<ScalarShare>> SplitScalar(const crypto::Secret& secret, int t, int n);
// The secret from shares with distinct indexes (at least t of the same sharing, or the result is
// meaningless). kInvalidArgument for duplicate or zero indexes.
Result<crypto::Secret> CombineScalars(const std::vector<ScalarShare>& shares);

// What a realm answers: its evaluation of the blinded element and the proof that it used the
// share behind `public_key`.
struct EvaluatedShare {
  uint8_t index = 0;
  Element evaluated{};
  std::array<uint8_t, kOprfProofSize> proof{};
};

// Realm side.
Result<EvaluatedShare> EvaluateShare(const ScalarShare& share, const Element& blinded);
// Client side: kPermissionDenied when the evaluation is not the one the share behind
// `public_key` gives (a realm that answers wrongly, or with another registration's share).
Status VerifyShare(const Element& public_key, const Element& blinded, const EvaluatedShare& share);
// k*blinded from checked evaluations with distinct indexes (at least t of them).
Result<Element> CombineShares(const std::vector<EvaluatedShare>& shares);

// The client's side of one evaluation: blind the input, later finalize the combined result.
class VoprfClient {
 public:
  static Result<VoprfClient> Blind(ByteView input);
  const Element& blinded() const { return blinded_; }
  // RFC 9497 Finalize: 64 bytes.
  Result<crypto::Secret> Finalize(const Element& evaluated) const;

 private:
  VoprfClient() = default;
  crypto::Secret input_;  // password-derived
  crypto::Secret blind_;
  Element blinded_{};
};

// The output for `input` under the whole key k, computed directly (at registration, where the
// client made k): equal to what Blind, t evaluations, CombineShares and Finalize give.
Result<crypto::Secret> EvaluateDirectly(const crypto::Secret& key, ByteView input);

}  // namespace chatvault::opaque
