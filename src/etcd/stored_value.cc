#include "stored_value.h"

#include <span>

#include "chatvault/crypto/random.h"

namespace chatvault::etcd {
namespace {
constexpr uint8_t kFormatV1 = 1;
}  // namespace

WriteId NewWriteId() {
  WriteId id;
  crypto::RandomFill(std::span<uint8_t>(id));
  return id;
}

std::string EncodeStoredValue(const WriteId& id, ByteView value) {
  std::string stored;
  stored.reserve(1 + id.size() + value.size());
  stored.push_back(static_cast<char>(kFormatV1));
  stored.append(reinterpret_cast<const char*>(id.data()), id.size());
  stored.append(reinterpret_cast<const char*>(value.data()), value.size());
  return stored;
}

Result<StoredValue> DecodeStoredValue(const std::string& stored) {
  StoredValue out;
  if (stored.size() < 1 + out.id.size() || static_cast<uint8_t>(stored[0]) != kFormatV1) {
    return Corrupted("an etcd record is not in chatvault's format (written by something else?)");
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(stored.data());
  std::copy(bytes + 1, bytes + 1 + out.id.size(), out.id.begin());
  out.value.assign(bytes + 1 + out.id.size(), bytes + stored.size());
  return out;
}

}  // namespace chatvault::etcd
