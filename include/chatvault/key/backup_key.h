// The backup key K: 32 random bytes that encrypt everything in a backup. Users see it as 64
// lowercase hex digits in 16 groups of 4 ("1f3a 9c02 ..."), the "64-digit key".
#pragma once

#include <string>
#include <string_view>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"

namespace chatvault::key {

constexpr size_t kKeySize = 32;
constexpr size_t kKeyDigits = 64;
constexpr size_t kFingerprintSize = 16;

class BackupKey {
 public:
  // A fresh key from the operating system's CSPRNG.
  static BackupKey Generate();
  // Accepts the key as people write it down: any case, with spaces, tabs, newlines or dashes
  // between digits. Anything else, or a digit count other than 64, is an InvalidArgument that
  // says what is wrong and where.
  static Result<BackupKey> Parse(std::string_view text);
  static Result<BackupKey> FromBytes(ByteView bytes);

  // "1f3a 9c02 ... 77e0": 16 groups of 4 lowercase hex digits separated by single spaces.
  std::string Display() const;
  // The same digits without separators (for files and scripts).
  std::string Hex() const;

  // 16 bytes derived from K with HKDF (info "chatvault/v1/key-fingerprint"). Stored in every
  // encrypted object so that restore can tell "wrong key" from "corrupted". Reveals nothing of K.
  const Bytes& Fingerprint() const { return fingerprint_; }

  const crypto::Secret& secret() const { return secret_; }
  BackupKey Clone() const { return BackupKey(secret_.Clone()); }

 private:
  explicit BackupKey(crypto::Secret secret);
  crypto::Secret secret_;
  Bytes fingerprint_;
};

// Reads a key written by WriteKeyFile (or any text file holding the 64 digits).
Result<BackupKey> ReadKeyFile(const std::string& path);
// Writes the key's hex digits with mode 0600, atomically (temp file + rename).
Status WriteKeyFile(const std::string& path, const BackupKey& key);

}  // namespace chatvault::key
