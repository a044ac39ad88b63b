#include "chatvault/vault/account_token.h"

#include "chatvault/common/bytes.h"
#include "chatvault/common/file.h"
#include "chatvault/crypto/hash.h"

namespace chatvault::vault {
namespace {

constexpr size_t kMinSecret = 32;
constexpr size_t kMaxAccount = 128;

Bytes TokenMac(const crypto::Secret& secret, std::string_view account, int64_t expiry) {
  Bytes msg = ToBytes("chatvault/v1/account-token");
  AppendU16BE(msg, static_cast<uint16_t>(account.size()));
  Append(msg, AsBytes(account));
  AppendU64BE(msg, static_cast<uint64_t>(expiry));
  return crypto::HmacSha256(secret.view(), msg);
}

}  // namespace

Result<std::string> IssueAccountToken(const crypto::Secret& secret, std::string_view account,
                                      int64_t expiry_unix) {
  if (secret.size() < kMinSecret) return InvalidArgument("the token secret is shorter than 32 bytes");
  if (account.empty() || account.size() > kMaxAccount) {
    return InvalidArgument("an account id is 1 to 128 characters");
  }
  return std::to_string(expiry_unix) + "." + HexEncode(TokenMac(secret, account, expiry_unix));
}

Status VerifyAccountToken(const crypto::Secret& secret, std::string_view account,
                          std::string_view token, int64_t now_unix) {
  const size_t dot = token.find('.');
  if (dot == std::string_view::npos || dot == 0 || dot > 19) {
    return PermissionDenied("the account token is malformed");
  }
  int64_t expiry = 0;
  for (char c : token.substr(0, dot)) {
    if (c < '0' || c > '9') return PermissionDenied("the account token is malformed");
    expiry = expiry * 10 + (c - '0');
  }
  auto mac = HexDecode(token.substr(dot + 1));
  if (!mac.ok() || mac->size() != 32) return PermissionDenied("the account token is malformed");
  if (account.size() > kMaxAccount) return PermissionDenied("the account token is not for this account");
  if (!crypto::ConstantTimeEqual(*mac, TokenMac(secret, account, expiry))) {
    return PermissionDenied("the account token is not valid for this account");
  }
  if (expiry < now_unix) return PermissionDenied("the account token has expired");
  return OkStatus();
}

Result<crypto::Secret> ReadTokenSecretFile(const std::string& path) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return IoError("cannot read the token secret file: " + text.status().message());
  std::string s = std::move(text).value();
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  crypto::Secret secret = crypto::Secret::FromBytes(AsBytes(s));
  crypto::Wipe({reinterpret_cast<uint8_t*>(s.data()), s.size()});
  if (secret.size() < kMinSecret) {
    return InvalidArgument("the token secret in " + path + " is shorter than 32 bytes");
  }
  return secret;
}

}  // namespace chatvault::vault
