// The few pieces of the protobuf wire format the backup header needs: varints, tags, length-
// delimited fields, and skipping unknown fields. Every read is bounds-checked against the buffer.
#pragma once

#include <cstdint>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"

namespace chatvault::whatsapp::wire {

enum class WireType : uint8_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

struct Tag {
  uint32_t field = 0;
  WireType type = WireType::kVarint;
};

class Reader {
 public:
  explicit Reader(ByteView data) : data_(data) {}
  bool done() const { return pos_ == data_.size(); }
  size_t offset() const { return pos_; }

  // kTruncated when the buffer ends inside the varint, kCorrupted when it is longer than 10 bytes.
  Result<uint64_t> ReadVarint();
  // kCorrupted for field 0, group wire types and unknown wire types.
  Result<Tag> ReadTag();
  Result<ByteView> ReadBytes();
  Status Skip(WireType type);

 private:
  ByteView data_;
  size_t pos_ = 0;
};

void AppendVarint(Bytes& out, uint64_t value);

class Writer {
 public:
  void Varint(uint32_t field, uint64_t value);
  void Bytes(uint32_t field, ByteView value);
  const ::chatvault::Bytes& data() const { return out_; }

 private:
  ::chatvault::Bytes out_;
};

}  // namespace chatvault::whatsapp::wire
