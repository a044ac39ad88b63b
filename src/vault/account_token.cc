#include "chatvault/vault/account_token.h"

#include <algorithm>
#include <cctype>

#include "chatvault/common/bytes.h"
#include "chatvault/common/file.h"
#include "chatvault/crypto/hash.h"
#include "vault/setting_lines.h"

namespace chatvault::vault {
namespace {

constexpr size_t kMinSecret = 32;
constexpr size_t kMaxAccount = 128;
constexpr size_t kMaxKeyId = 16;
constexpr size_t kMaxKeys = 32;
constexpr std::string_view kLabel = "chatvault/v1/account-token";

// The legacy MAC input is label || u16(len account) || ...; a keyed one puts u8(len id) with a
// length of at least 1 first, so the two inputs can never be the same bytes.
Bytes TokenMac(const TokenKeys::Key& key, std::string_view account, int64_t expiry) {
  Bytes msg = ToBytes(kLabel);
  if (!key.id.empty()) {
    msg.push_back(static_cast<uint8_t>(key.id.size()));
    Append(msg, AsBytes(key.id));
  }
  AppendU16BE(msg, static_cast<uint16_t>(account.size()));
  Append(msg, AsBytes(account));
  AppendU64BE(msg, static_cast<uint64_t>(expiry));
  return crypto::HmacSha256(key.secret.view(), msg);
}

bool ValidKeyId(std::string_view id) {
  return !id.empty() && id.size() <= kMaxKeyId &&
         std::all_of(id.begin(), id.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_' || c == '-'; });
}

Status Malformed() { return PermissionDenied("the account token is malformed"); }

// "<digits>" as an expiry; false when it is not a plain decimal number of at most 18 digits.
bool ParseExpiry(std::string_view text, int64_t& expiry) {
  if (text.empty() || text.size() > 18) return false;
  expiry = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    expiry = expiry * 10 + (c - '0');
  }
  return true;
}

}  // namespace

Result<TokenKeys> TokenKeys::Parse(std::string_view text, std::string_view source) {
  TokenKeys keys;
  bool legacy = false;
  for (const SettingLine& setting : SettingLines(text, source)) {
    const std::string_view line = setting.text;
    const std::string& where = setting.where;
    const size_t space = line.find_first_of(" \t");
    Key key;
    std::string_view secret = line;
    if (space != std::string_view::npos) {
      key.id = std::string(line.substr(0, space));
      secret = TrimBlanks(line.substr(space));
      if (!ValidKeyId(key.id)) {
        return InvalidArgument(where + ": a key id is 1 to 16 letters, digits, '_' or '-'");
      }
      if (secret.find_first_of(" \t") != std::string_view::npos) {
        return InvalidArgument(where + ": expected '<id> <secret>'");
      }
    } else if (legacy) {
      return InvalidArgument(where + ": only one key may be given without an id");
    } else {
      legacy = true;
    }
    if (secret.size() < kMinSecret) {
      return InvalidArgument(where + ": the secret is shorter than 32 bytes");
    }
    if (keys.Find(key.id)) return InvalidArgument(where + ": the key id '" + key.id + "' repeats");
    if (keys.keys_.size() == kMaxKeys) return InvalidArgument(where + ": more than 32 keys");
    key.secret = crypto::Secret::FromBytes(AsBytes(secret));
    keys.keys_.push_back(std::move(key));
  }
  if (keys.keys_.empty()) return InvalidArgument(std::string(source) + " holds no token key");
  return keys;
}

Result<TokenKeys> TokenKeys::ReadFile(const std::string& path) {
  auto text = ReadFileToString(path);
  if (!text.ok()) return IoError("cannot read the token keys file: " + text.status().message());
  std::string s = std::move(text).value();
  auto keys = Parse(s, path);
  crypto::Wipe({reinterpret_cast<uint8_t*>(s.data()), s.size()});
  return keys;
}

Result<TokenKeys> TokenKeys::Single(std::string id, crypto::Secret secret) {
  if (!id.empty() && !ValidKeyId(id)) {
    return InvalidArgument("a key id is 1 to 16 letters, digits, '_' or '-'");
  }
  if (secret.size() < kMinSecret) return InvalidArgument("the token secret is shorter than 32 bytes");
  TokenKeys keys;
  keys.keys_.push_back(Key{std::move(id), std::move(secret)});
  return keys;
}

TokenKeys TokenKeys::Clone() const {
  TokenKeys copy;
  for (const Key& key : keys_) copy.keys_.push_back(Key{key.id, key.secret.Clone()});
  return copy;
}

const TokenKeys::Key* TokenKeys::Find(std::string_view id) const {
  for (const Key& key : keys_) {
    if (key.id == id) return &key;
  }
  return nullptr;
}

std::vector<std::string> TokenKeys::ids() const {
  std::vector<std::string> out;
  for (const Key& key : keys_) out.push_back(key.id);
  return out;
}

Result<std::string> TokenKeys::Issue(std::string_view account, int64_t expiry_unix,
                                     std::string_view key_id) const {
  if (account.empty() || account.size() > kMaxAccount) {
    return InvalidArgument("an account id is 1 to 128 characters");
  }
  const Key* key = key_id.empty() ? &keys_.front() : Find(key_id);
  if (!key) return NotFound("the token keys file has no key '" + std::string(key_id) + "'");
  std::string mac = HexEncode(TokenMac(*key, account, expiry_unix));
  std::string expiry = std::to_string(expiry_unix);
  return key->id.empty() ? expiry + "." + mac : key->id + "." + expiry + "." + mac;
}

Status TokenKeys::Verify(std::string_view account, std::string_view token, int64_t now_unix) const {
  const size_t last_dot = token.rfind('.');
  if (last_dot == std::string_view::npos) return Malformed();
  std::string_view head = token.substr(0, last_dot);
  const size_t first_dot = head.find('.');
  std::string_view id, expiry_text = head;
  if (first_dot != std::string_view::npos) {
    id = head.substr(0, first_dot);
    expiry_text = head.substr(first_dot + 1);
    if (!ValidKeyId(id)) return Malformed();
  }
  int64_t expiry = 0;
  if (!ParseExpiry(expiry_text, expiry)) return Malformed();
  auto mac = HexDecode(token.substr(last_dot + 1));
  if (!mac.ok() || mac->size() != 32) return Malformed();
  if (account.size() > kMaxAccount) return PermissionDenied("the account token is not for this account");
  const Key* key = Find(id);
  if (!key) {
    return PermissionDenied(
        "the account token was signed with a key this vault does not know "
        "(retired, or not added yet)");
  }
  if (!crypto::ConstantTimeEqual(*mac, TokenMac(*key, account, expiry))) {
    return PermissionDenied("the account token is not valid for this account");
  }
  if (expiry < now_unix) return PermissionDenied("the account token has expired");
  return OkStatus();
}

}  // namespace chatvault::vault
