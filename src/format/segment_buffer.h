// Cuts a byte stream into STREAM units of one size and passes a unit on only once a byte after it
// has arrived. STREAM seals the final segment differently from the others, and only Finish knows
// which unit is the final one, so the newest unit always stays held. The writer cuts plaintext
// segments with it and the reader sealed ones (segment || tag): the same rule on both sides.
#pragma once

#include <algorithm>
#include <cstring>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"

namespace chatvault::format::internal {

class SegmentBuffer {
 public:
  SegmentBuffer() = default;
  // `room` >= `unit_size`: the writer seals in place and needs room for the tag after the unit.
  SegmentBuffer(size_t unit_size, size_t room) : unit_size_(unit_size), bytes_(room) {}

  // Takes `data` in, calling `pass_on(unit)` (a Status) for every unit that more bytes follow.
  template <typename PassOn>
  Status Add(ByteView data, PassOn&& pass_on) {
    while (!data.empty()) {
      if (fill_ == unit_size_) {
        // At least one more byte follows, so the held unit is not the last.
        CV_RETURN_IF_ERROR(pass_on(ByteView(bytes_.data(), fill_)));
        fill_ = 0;
      }
      if (fill_ == 0 && data.size() > unit_size_) {
        // Whole units straight from the caller's bytes: no copy into the buffer.
        CV_RETURN_IF_ERROR(pass_on(data.first(unit_size_)));
        data = data.subspan(unit_size_);
        continue;
      }
      const size_t n = std::min(unit_size_ - fill_, data.size());
      std::memcpy(bytes_.data() + fill_, data.data(), n);
      fill_ += n;
      data = data.subspan(n);
    }
    return OkStatus();
  }

  // The unit held back: the last so far, whole, partial or empty.
  ByteView held() const { return ByteView(bytes_.data(), fill_); }
  // The whole buffer, for a writer that seals the held unit in place.
  uint8_t* data() { return bytes_.data(); }
  void Clear() { fill_ = 0; }

 private:
  size_t unit_size_ = 0;
  Bytes bytes_;
  size_t fill_ = 0;
};

}  // namespace chatvault::format::internal
