// Reading and writing whole WhatsApp backup files (.crypt15, and .crypt14/.crypt12 for reading).
//
// Both directions stream in fixed-size pieces (constant memory, any file size) and write their
// output through a temporary file that is renamed into place only after everything checked out:
// a wrong key, a damaged file or a crash never leaves a partial or unauthenticated output behind.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "chatvault/common/status.h"
#include "chatvault/whatsapp/backup_prefix.h"
#include "chatvault/whatsapp/whatsapp_key.h"

namespace chatvault::whatsapp {

// Called as bytes of the input are processed (done <= total).
using ByteProgressFn = std::function<void(uint64_t done, uint64_t total)>;

// What a backup decrypts to: a zlib-compressed SQLite database (msgstore.db, wa.db, ...) or, for
// multi-file backups (stickers, wallpapers), a ZIP archive stored without compression layer.
enum class Payload { kSqlite, kZip };

struct DecryptOptions {
  ByteProgressFn progress;
};

struct DecryptSummary {
  KeyType key_type = KeyType::kHsmControlled;
  BackupFormat format = BackupFormat::kCrypt15;
  Payload payload = Payload::kSqlite;
  bool had_md5 = false;        // the file carried (and passed) the trailing MD5
  uint64_t input_bytes = 0;
  uint64_t output_bytes = 0;
  std::string app_version;     // from the header, may be empty
};

// Decrypts `in_path` into `out_path` (replaced atomically). Errors, each with its own sentence:
//   kWrongKey      the key does not open the backup (the file itself is intact), or a crypt14/15
//                  key was given for the other format (crypt12 opens with the crypt14 key file)
//   kTruncated     the file ends early (inside the header, or before its compressed content ends)
//   kCorrupted     the GCM tag fails on a damaged file ("tag"), the trailing MD5 does not match
//                  content that authenticated ("MD5"), or the content is not SQLite/ZIP
//   kUnsupported   an unknown key type in the header
//   kIo            reading or writing failed
Result<DecryptSummary> DecryptBackupFile(const std::string& in_path, const std::string& out_path,
                                         const WhatsAppKey& key, const DecryptOptions& options);

struct EncryptOptions {
  // Written into the header's BackupExpiry; WhatsApp shows nothing of it, tools print it.
  // Checked with CheckAppVersion and CheckJidSuffix (kInvalidArgument), so that every file
  // written has a header readers accept.
  std::string app_version = "2.24.24.78";
  std::string jid_suffix = "00";
  // Append the MD5 of the file (WhatsApp does for databases, never for ZIP backups).
  bool write_md5 = true;
  ByteProgressFn progress;
};

struct EncryptSummary {
  Payload payload = Payload::kSqlite;
  uint64_t input_bytes = 0;
  uint64_t output_bytes = 0;
};

// Encrypts a SQLite database (or a ZIP archive, as a multi-file backup) into a .crypt15 at
// `out_path` under the crypt15 `key`. The IV is fresh from the CSPRNG; callers never choose it.
Result<EncryptSummary> EncryptBackupFile(const std::string& in_path, const std::string& out_path,
                                         const WhatsAppKey& key, const EncryptOptions& options);

}  // namespace chatvault::whatsapp
