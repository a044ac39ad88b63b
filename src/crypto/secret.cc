#include "chatvault/crypto/secret.h"

#include <sodium.h>

#include <cstring>
#include <utility>

#include "crypto/sodium_init.h"

namespace chatvault::crypto {

Secret::Secret(size_t size) : data_(size ? new uint8_t[size]() : nullptr), size_(size) {}

Secret Secret::FromBytes(ByteView bytes) {
  Secret s(bytes.size());
  if (!bytes.empty()) std::memcpy(s.data_, bytes.data(), bytes.size());
  return s;
}

Secret::~Secret() { Wipe(); }

Secret::Secret(Secret&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

Secret& Secret::operator=(Secret&& other) noexcept {
  if (this != &other) {
    Wipe();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

bool Secret::Equals(const Secret& other) const { return ConstantTimeEqual(view(), other.view()); }

void Secret::Wipe() {
  if (data_ != nullptr) {
    sodium_memzero(data_, size_);
    delete[] data_;
    data_ = nullptr;
    size_ = 0;
  }
}

void Wipe(std::span<uint8_t> bytes) {
  if (!bytes.empty()) sodium_memzero(bytes.data(), bytes.size());
}

bool ConstantTimeEqual(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  EnsureSodium();
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace chatvault::crypto
