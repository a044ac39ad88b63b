#include "format/segment_sealer.h"

#include <algorithm>
#include <cstring>

#include "format/header.h"

namespace chatvault::format::internal {

SegmentSealer::SegmentSealer(crypto::AesGcm256 aead, Bytes header, size_t segment_size, Sink* out)
    : aead_(std::move(aead)),
      header_(std::move(header)),
      segment_size_(segment_size),
      out_(out),
      buffer_(segment_size + kTagSize) {}

Status SegmentSealer::SealInto(ByteView plaintext, bool last) {
  if (index_ >= kMaxSegments) {
    return InvalidArgument("the data is too large for one container (more than 2^32 segments)");
  }
  uint8_t nonce[kNonceSize];
  SegmentNonce(index_, last, nonce);
  // `plaintext` is either buffer_ itself (sealed in place) or the caller's bytes.
  aead_.Seal(ByteView(nonce, kNonceSize), header_, plaintext, buffer_.data(),
             buffer_.data() + plaintext.size());
  ++index_;
  return out_->Write(ByteView(buffer_.data(), plaintext.size() + kTagSize));
}

Status SegmentSealer::Add(ByteView payload) {
  while (!payload.empty()) {
    if (fill_ == segment_size_) {
      // More payload follows, so the buffered segment is not the last.
      CV_RETURN_IF_ERROR(SealInto(ByteView(buffer_.data(), fill_), false));
      fill_ = 0;
    }
    if (fill_ == 0 && payload.size() > segment_size_) {
      // Whole segments straight from the caller's bytes: no copy into the buffer.
      CV_RETURN_IF_ERROR(SealInto(payload.first(segment_size_), false));
      payload = payload.subspan(segment_size_);
      continue;
    }
    const size_t n = std::min(segment_size_ - fill_, payload.size());
    std::memcpy(buffer_.data() + fill_, payload.data(), n);
    fill_ += n;
    payload = payload.subspan(n);
  }
  return OkStatus();
}

Status SegmentSealer::Finish() {
  CV_RETURN_IF_ERROR(SealInto(ByteView(buffer_.data(), fill_), true));
  fill_ = 0;
  return OkStatus();
}

}  // namespace chatvault::format::internal
