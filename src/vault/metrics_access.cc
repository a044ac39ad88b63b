#include "vault/metrics_access.h"

#include <cctype>
#include <fstream>
#include <iterator>

#include "chatvault/common/bytes.h"
#include "chatvault/crypto/hash.h"

namespace chatvault::vault {
namespace {

constexpr size_t kMinTokenSize = 16;

crypto::Secret Digest(std::string_view text) {
  Bytes digest = crypto::Sha256(AsBytes(text));
  crypto::Secret secret = crypto::Secret::FromBytes(digest);
  crypto::Wipe(digest);
  return secret;
}

// The file's first line, without its line end.
Result<crypto::Secret> ReadTokenDigest(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return IoError("cannot read the metrics token file " + path);
  std::string token;
  std::getline(in, token);
  if (!token.empty() && token.back() == '\r') token.pop_back();
  const size_t size = token.size();
  crypto::Secret digest = Digest(token);
  crypto::Wipe({reinterpret_cast<uint8_t*>(token.data()), token.size()});
  if (size < kMinTokenSize) {
    return InvalidArgument("the metrics token in " + path + " is shorter than 16 characters");
  }
  return digest;
}

// "Bearer <token>" (the scheme name in any case, RFC 9110 11.1); "" for anything else.
std::string_view BearerToken(std::string_view authorization) {
  constexpr std::string_view kScheme = "bearer ";
  if (authorization.size() <= kScheme.size()) return {};
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kScheme[i]) return {};
  }
  return authorization.substr(kScheme.size());
}

}  // namespace

Result<MetricsAccess> MetricsAccess::Load(const std::string& token_file, bool own_listener) {
  crypto::Secret digest;
  if (!token_file.empty()) {
    CV_ASSIGN_OR_RETURN(digest, ReadTokenDigest(token_file));
  }
  return MetricsAccess(std::move(digest), own_listener);
}

MetricsAccess::Decision MetricsAccess::Check(bool on_metrics_listener,
                                             const std::string& authorization) const {
  if (own_listener_ != on_metrics_listener) return Decision::kNoSuchRoute;
  if (!own_listener_ && !needs_token()) return Decision::kNoSuchRoute;  // metrics are off
  if (!needs_token()) return Decision::kServe;
  const crypto::Secret digest = Digest(BearerToken(authorization));
  return digest.Equals(token_digest_) ? Decision::kServe : Decision::kUnauthorized;
}

}  // namespace chatvault::vault
