#include "format/segment_sealer.h"

#include "format/header.h"

namespace chatvault::format::internal {

SegmentSealer::SegmentSealer(crypto::AesGcm256 aead, Bytes header, size_t segment_size, Sink* out)
    : aead_(std::move(aead)),
      header_(std::move(header)),
      out_(out),
      buffer_(segment_size, segment_size + kTagSize) {}

Status SegmentSealer::SealInto(ByteView plaintext, bool last) {
  if (index_ >= kMaxSegments) {
    return InvalidArgument("the data is too large for one container (more than 2^32 segments)");
  }
  uint8_t nonce[kNonceSize];
  SegmentNonce(index_, last, nonce);
  // `plaintext` is either the held segment itself (sealed in place) or the caller's bytes.
  uint8_t* sealed = buffer_.data();
  aead_.Seal(ByteView(nonce, kNonceSize), header_, plaintext, sealed, sealed + plaintext.size());
  ++index_;
  return out_->Write(ByteView(sealed, plaintext.size() + kTagSize));
}

Status SegmentSealer::Add(ByteView payload) {
  return buffer_.Add(payload, [this](ByteView segment) { return SealInto(segment, false); });
}

Status SegmentSealer::Finish() {
  CV_RETURN_IF_ERROR(SealInto(buffer_.held(), true));
  buffer_.Clear();
  return OkStatus();
}

}  // namespace chatvault::format::internal
