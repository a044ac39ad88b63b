// Where decrypted (still unauthenticated) bytes go: recognises the payload from its first bytes,
// inflates zlib (WhatsApp databases) or copies a ZIP (multi-file backups) into the temporary
// output. Errors are remembered rather than returned at once, so that the caller can finish the
// authentication pass and say whether the cause is a wrong key, truncation or damage.
#pragma once

#include <zlib.h>

#include "chatvault/common/file.h"
#include "chatvault/common/status.h"
#include "chatvault/whatsapp/crypt15.h"

namespace chatvault::whatsapp {

class PayloadSink {
 public:
  explicit PayloadSink(AtomicFile& out);
  ~PayloadSink();
  PayloadSink(const PayloadSink&) = delete;
  PayloadSink& operator=(const PayloadSink&) = delete;

  void Feed(ByteView plaintext);
  // Called once all authenticated plaintext was fed: the zlib stream must have ended exactly.
  Status Finish();

  Payload payload() const { return kind_ == Kind::kZip ? Payload::kZip : Payload::kSqlite; }
  // A zlib stream that decoded cleanly so far but has not reached its end: what a cut-off file
  // looks like.
  bool zlib_incomplete() const { return kind_ == Kind::kZlib && error_.ok() && !ended_; }
  const Status& error() const { return error_; }

 private:
  enum class Kind { kUndecided, kZlib, kZip };
  void Decide();
  void Inflate(ByteView data);

  AtomicFile& out_;
  Kind kind_ = Kind::kUndecided;
  Bytes pending_;  // the first bytes, until the payload kind is known
  z_stream zs_{};
  bool zs_open_ = false;
  bool ended_ = false;
  Bytes buffer_;
  Status error_;
};

}  // namespace chatvault::whatsapp
