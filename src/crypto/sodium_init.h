#pragma once

namespace chatvault::crypto {
// libsodium must be initialised once before use; this is cheap after the first call and thread-safe.
void EnsureSodium();
}  // namespace chatvault::crypto
