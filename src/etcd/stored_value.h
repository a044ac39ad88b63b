// How a record is laid out in an etcd value: a format byte, the random id of the write that
// stored it, then the caller's bytes. The write id lets a client whose answer was lost (leader
// died, connection dropped) find out on retry whether its own write was the one applied,
// instead of guessing — so a retried compare-and-set is never counted twice or reported lost.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"

namespace chatvault::etcd {

using WriteId = std::array<uint8_t, 16>;

WriteId NewWriteId();

std::string EncodeStoredValue(const WriteId& id, ByteView value);

struct StoredValue {
  WriteId id{};
  Bytes value;
};

// kCorrupted for a value this code did not write.
Result<StoredValue> DecodeStoredValue(const std::string& stored);

}  // namespace chatvault::etcd
