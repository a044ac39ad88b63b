// Reads a serialized record field by field, front to back. A read past the end fails that read
// and every later one, so a parser reads all its fields and checks ok() once.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

#include "chatvault/common/bytes.h"

namespace chatvault {

class ByteReader {
 public:
  explicit ByteReader(ByteView in) : in_(in) {}

  // No read went past the end.
  bool ok() const { return ok_; }
  bool at_end() const { return at_ == in_.size(); }
  // Every read fit and nothing is left over.
  bool consumed_exactly() const { return ok_ && at_end(); }
  // For a field type that parses itself from (in, &at).
  size_t* position() { return &at_; }

  // The next `n` bytes; empty (and the reader failed) when fewer are left.
  ByteView Take(size_t n) {
    if (!ok_ || in_.size() - at_ < n) {
      ok_ = false;
      return {};
    }
    ByteView out = in_.subspan(at_, n);
    at_ += n;
    return out;
  }
  template <size_t N>
  void Into(std::array<uint8_t, N>& out) {
    ByteView b = Take(N);
    if (ok_) std::copy(b.begin(), b.end(), out.begin());
  }
  uint8_t U8() {
    ByteView b = Take(1);
    return ok_ ? b[0] : 0;
  }
  uint16_t U16() {
    ByteView b = Take(2);
    return ok_ ? ReadU16BE(b.data()) : 0;
  }
  uint64_t U64() {
    ByteView b = Take(8);
    return ok_ ? ReadU64BE(b.data()) : 0;
  }

 private:
  ByteView in_;
  size_t at_ = 0;
  bool ok_ = true;
};

}  // namespace chatvault
