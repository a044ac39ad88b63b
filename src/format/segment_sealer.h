// Cuts a payload into STREAM segments and seals each one as soon as it is known not to be the
// last, so the writer holds one segment of memory whatever the size.
#pragma once

#include <cstdint>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/aes_gcm.h"
#include "chatvault/format/container.h"
#include "format/segment_buffer.h"

namespace chatvault::format::internal {

class SegmentSealer {
 public:
  SegmentSealer(crypto::AesGcm256 aead, Bytes header, size_t segment_size, Sink* out);

  const Bytes& header() const { return header_; }
  Status Add(ByteView payload);
  // Seals what is buffered as the final segment (empty only if the whole payload was empty).
  Status Finish();

 private:
  Status SealInto(ByteView plaintext, bool last);

  crypto::AesGcm256 aead_;
  Bytes header_;
  Sink* out_;
  SegmentBuffer buffer_;  // room for a segment + tag: sealed in place, the tag appended
  uint64_t index_ = 0;
};

}  // namespace chatvault::format::internal
