// Secret: key material that is move-only, never printed, and wiped (sodium_memzero) when it dies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "chatvault/common/bytes.h"

namespace chatvault::crypto {

class Secret {
 public:
  Secret() = default;
  explicit Secret(size_t size);
  // Copies `bytes` in; the caller remains responsible for wiping its own copy.
  static Secret FromBytes(ByteView bytes);
  ~Secret();

  Secret(Secret&& other) noexcept;
  Secret& operator=(Secret&& other) noexcept;
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;

  // An explicit copy, so that duplicating key material is always visible at the call site.
  Secret Clone() const { return FromBytes(view()); }

  uint8_t* data() { return data_; }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  ByteView view() const { return {data_, size_}; }
  std::span<uint8_t> span() { return {data_, size_}; }

  // Constant-time equality.
  bool Equals(const Secret& other) const;

 private:
  void Wipe();
  uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

// Wipes a plain buffer that held secret bytes.
void Wipe(std::span<uint8_t> bytes);

// Constant-time comparison of MACs, tags and other secret-dependent values.
bool ConstantTimeEqual(ByteView a, ByteView b);

}  // namespace chatvault::crypto
