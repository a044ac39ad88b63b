#include "crypto/sodium_init.h"

#include <sodium.h>

#include <cstdlib>

namespace chatvault::crypto {

void EnsureSodium() {
  static const bool initialised = [] {
    // sodium_init fails only when no entropy source exists; nothing secure can happen then.
    if (sodium_init() < 0) std::abort();
    return true;
  }();
  (void)initialised;
}

}  // namespace chatvault::crypto
