// Account tokens: the chat service's proof that the caller owns an account, required to register,
// replace or delete a vault record (docs/API.md, "Account tokens").
//
//   token = "<key id>.<expiry unix seconds>.<hex HMAC-SHA256>"
//
// The MAC covers a domain label, the key id, the account id and the expiry, under the secret
// with that id. The chat service and keyvaultd share a keys file with one "<id> <secret>" per
// line; the first key issues, every key listed verifies. A new key is added (verifying only),
// then moved first (issuing), and the old one is removed once the tokens it signed expired: a
// rotation that logs nobody out. A file holding one bare secret (the format before key ids) is
// still accepted: that key has no id and its tokens are "<expiry>.<mac>" with the MAC as before.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"

namespace chatvault::vault {

class TokenKeys {
 public:
  struct Key {
    std::string id;  // "" only for the legacy bare secret
    crypto::Secret secret;
  };

  // The keys file's text. Lines: "<id> <secret>" (id: 1-16 of [A-Za-z0-9_-]; secret: at least
  // 32 bytes of text without spaces, e.g. 64 hex digits), '#' comments and blank lines ignored.
  // One line without a space is the legacy bare secret. kInvalidArgument naming the line when
  // anything is off (a duplicate id, a short secret, no key at all).
  static Result<TokenKeys> Parse(std::string_view text, std::string_view source);
  static Result<TokenKeys> ReadFile(const std::string& path);
  // One key (tests, and the in-process vault).
  static Result<TokenKeys> Single(std::string id, crypto::Secret secret);

  TokenKeys(TokenKeys&&) = default;
  TokenKeys& operator=(TokenKeys&&) = default;
  TokenKeys Clone() const;

  // Signs with the key `key_id`, or with the first key when it is empty. kNotFound for an id
  // the file does not list.
  Result<std::string> Issue(std::string_view account, int64_t expiry_unix,
                            std::string_view key_id = {}) const;

  // kPermissionDenied (one sentence: malformed, unknown key, forged or expired) unless the token
  // is valid for `account` at `now_unix`. The MAC is compared in constant time.
  Status Verify(std::string_view account, std::string_view token, int64_t now_unix) const;

  // The ids in file order ("" for a legacy key), for the log; never the secrets.
  std::vector<std::string> ids() const;

 private:
  TokenKeys() = default;
  const Key* Find(std::string_view id) const;
  std::vector<Key> keys_;
};

}  // namespace chatvault::vault
