#include "vault/realm_fake.h"

#include <algorithm>
#include <string>

#include "chatvault/crypto/signature.h"
#include "chatvault/opaque/threshold_oprf.h"
#include "vault/vault_core.h"

namespace chatvault::vault {
namespace {

namespace realm = vaultproto::realm;

// The shape the CLI registers by default (2 of 3).
constexpr uint8_t kFakeThreshold = 2;
constexpr uint8_t kFakeRealms = 3;
// A version starts with its registration time in milliseconds; a made-up one falls in the two
// years before 2026-01-01T00:00:00Z. A fixed window keeps the answer the same at every request.
constexpr uint64_t kFakeTimesEnd = 1'767'225'600'000;
constexpr uint64_t kFakeTimesSpan = 2ull * 365 * 24 * 3600 * 1000;

realm::Version FakeVersion(const crypto::Secret& seed) {
  realm::Version v{};
  Bytes time;
  AppendU64BE(time, kFakeTimesEnd - ReadU64BE(seed.data()) % kFakeTimesSpan);
  std::copy(time.begin(), time.end(), v.begin());
  std::copy_n(seed.data() + 8, v.size() - time.size(), v.begin() + time.size());
  return v;
}

}  // namespace

Result<realm::RealmShare> FakeShare(const VaultCore& core, std::string_view account,
                                    const opaque::KsfParams& ksf) {
  auto seed = [&](std::string_view purpose) {
    return core.LoginSeed("realm-fake-" + std::string(purpose), {AsBytes(account)});
  };
  const crypto::Secret version_seed = seed("version");
  realm::RealmShare share;
  share.version = FakeVersion(version_seed);
  share.threshold = kFakeThreshold;
  share.realms = kFakeRealms;
  share.index = static_cast<uint8_t>(1 + version_seed.data()[16] % kFakeRealms);
  share.ksf = ksf;
  CV_ASSIGN_OR_RETURN(crypto::Secret oprf_share,
                      opaque::ScalarFromSeed(seed("oprf-share"), "chatvault/v1/realm-fake"));
  std::copy_n(oprf_share.data(), share.oprf_share.size(), share.oprf_share.begin());
  CV_ASSIGN_OR_RETURN(share.public_key, opaque::PublicKeyOf(oprf_share));
  const crypto::SigningKey signing = crypto::SigningKey::FromSeed(seed("signing-key"));
  share.verifying_key = signing.verify_key();
  share.share_signature = signing.Sign(realm::ShareStatement(
      share.version, share.threshold, share.realms, share.index, share.public_key));
  const crypto::Secret commitment = seed("commitment");
  std::copy_n(commitment.data(), share.commitment.size(), share.commitment.begin());
  return share;
}

}  // namespace chatvault::vault
