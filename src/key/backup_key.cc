#include "chatvault/key/backup_key.h"

#include "chatvault/common/file.h"
#include "chatvault/crypto/hkdf.h"
#include "chatvault/crypto/random.h"

namespace chatvault::key {
namespace {

bool IsSeparator(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '-'; }

int DigitValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

BackupKey::BackupKey(crypto::Secret secret) : secret_(std::move(secret)) {
  crypto::Secret fp = crypto::DeriveSubkey(secret_, {}, "key-fingerprint", kFingerprintSize);
  fingerprint_.assign(fp.view().begin(), fp.view().end());
}

BackupKey BackupKey::Generate() { return BackupKey(crypto::RandomSecret(kKeySize)); }

Result<BackupKey> BackupKey::FromBytes(ByteView bytes) {
  if (bytes.size() != kKeySize) return InvalidArgument("a backup key is exactly 32 bytes");
  return BackupKey(crypto::Secret::FromBytes(bytes));
}

Result<BackupKey> BackupKey::Parse(std::string_view text) {
  crypto::Secret bytes(kKeySize);
  size_t digits = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (IsSeparator(c)) continue;
    const int v = DigitValue(c);
    if (v < 0) {
      return InvalidArgument("the key may hold only the digits 0-9 and letters a-f; found '" +
                             std::string(1, c) + "' at character " + std::to_string(i + 1));
    }
    if (digits < kKeyDigits) {
      uint8_t& b = bytes.data()[digits / 2];
      b = static_cast<uint8_t>(digits % 2 == 0 ? v << 4 : b | v);
    }
    ++digits;
  }
  if (digits != kKeyDigits) {
    return InvalidArgument("the key has " + std::to_string(digits) +
                           " digits; a backup key has exactly 64");
  }
  return BackupKey(std::move(bytes));
}

std::string BackupKey::Hex() const { return HexEncode(secret_.view()); }

std::string BackupKey::Display() const {
  const std::string hex = Hex();
  std::string out;
  out.reserve(kKeyDigits + kKeyDigits / 4);
  for (size_t i = 0; i < hex.size(); i += 4) {
    if (i) out.push_back(' ');
    out.append(hex, i, 4);
  }
  return out;
}

Result<BackupKey> ReadKeyFile(const std::string& path) {
  auto text = ReadFileToString(path);
  if (!text.ok()) {
    if (text.status().code() == Code::kNotFound) return NotFound("cannot open key file " + path);
    return text.status();
  }
  auto key = BackupKey::Parse(*text);
  if (!key.ok()) return key.status().Annotate("key file " + path);
  return key;
}

Status WriteKeyFile(const std::string& path, const BackupKey& key) {
  return WriteFileAtomically(path, key.Hex() + "\n", 0600);
}

}  // namespace chatvault::key
