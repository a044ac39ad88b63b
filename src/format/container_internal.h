// Knobs the public API deliberately hides: a fixed salt (for the known-answer test only) and a
// smaller segment size (so tests and the fuzzer reach many segments with little data).
#pragma once

#include <memory>
#include <optional>

#include "chatvault/format/container.h"
#include "format/header.h"

namespace chatvault::format::internal {

struct EncryptorInternals {
  std::optional<Bytes> salt;  // must be kSaltSize bytes; never set outside tests
  int segment_log = kDefaultSegmentLog;
};

Result<std::unique_ptr<Encryptor>> CreateEncryptor(const key::BackupKey& key,
                                                   const EncryptOptions& options,
                                                   const EncryptorInternals& internals, Sink* out);

Result<Bytes> EncryptBytesWith(const key::BackupKey& key, const EncryptOptions& options,
                               const EncryptorInternals& internals, ByteView plaintext);

}  // namespace chatvault::format::internal
