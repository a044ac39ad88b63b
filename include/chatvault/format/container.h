// The chatvault encrypted container (specified in docs/FORMAT.md): header, optional zstd, then
// AES-256-GCM in fixed-size segments with counter nonces and a last-segment flag (STREAM).
// Callers choose neither keys nor nonces: each container gets a fresh random salt and its own
// subkey HKDF(K, salt, "chatvault/v1/<purpose>").
//
// Both directions are push-style so that memory stays constant however large the data:
// feed bytes with Write(), then Finish(). Output goes to a Sink as it is produced.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/key/backup_key.h"

namespace chatvault::format {

// Receives output bytes in order.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual Status Write(ByteView data) = 0;
};

// A Sink that appends to a Bytes buffer.
class BytesSink : public Sink {
 public:
  explicit BytesSink(Bytes* out) : out_(out) {}
  Status Write(ByteView data) override {
    Append(*out_, data);
    return OkStatus();
  }

 private:
  Bytes* out_;
};

enum class Compression {
  kNone,
  kZstd,
  // Compress unless the first segment shows the data does not shrink (photos, video, voice notes
  // are already compressed).
  kAuto,
};

// Purposes bind a container to its role: a manifest cannot be passed off as a media chunk.
// Use short lowercase names: "chunk", "manifest", "pointer", ...
struct EncryptOptions {
  std::string purpose = "chunk";
  Compression compression = Compression::kAuto;
  int zstd_level = 3;
  // The zstd window (log2 of its bytes) when not 0, else the level's default. A reader allocates
  // the window for each container it opens: levels 3 and up default to 2 MiB, level 1 to 512 KiB,
  // and a smaller window costs little on objects of a few MiB (19 makes a day's database pages
  // 0.6% larger at level 6). At most 23, what readers accept.
  int zstd_window_log = 0;
};

class Encryptor {
 public:
  static Result<std::unique_ptr<Encryptor>> Create(const key::BackupKey& key,
                                                   const EncryptOptions& options, Sink* out);
  virtual ~Encryptor() = default;
  virtual Status Write(ByteView plaintext) = 0;
  // Emits the final segment. No Write() after this.
  virtual Status Finish() = 0;
};

// Errors from Decryptor, each distinct:
//   kWrongKey    the header's key fingerprint is not this key's
//   kTruncated   the data ends before the final segment (or inside the header)
//   kCorrupted   a bit flip, a reordered or repeated segment, trailing data after the final
//                segment, or a purpose mismatch; the message says which, and a purpose mismatch
//                (an intact container of another role) carries Detail::kWrongPurpose
//   kUnsupported an unknown version
// No plaintext of a segment reaches the Sink before that segment authenticates.
class Decryptor {
 public:
  static Result<std::unique_ptr<Decryptor>> Create(const key::BackupKey& key,
                                                   std::string_view expected_purpose, Sink* out);
  virtual ~Decryptor() = default;
  virtual Status Write(ByteView ciphertext) = 0;
  virtual Status Finish() = 0;
};

// Whole-buffer helpers for small objects (manifests, pointers, chunks of a few MiB).
Result<Bytes> EncryptBytes(const key::BackupKey& key, const EncryptOptions& options,
                           ByteView plaintext);
Result<Bytes> DecryptBytes(const key::BackupKey& key, std::string_view expected_purpose,
                           ByteView ciphertext);

}  // namespace chatvault::format
