#pragma once
#include "chatvault/common/bytes.h"

namespace chatvault::testing {
// Hex literal to bytes for test vectors; aborts the test binary on a typo in the vector.
inline Bytes Hex(std::string_view hex) {
  auto r = HexDecode(hex);
  if (!r.ok()) abort();
  return *r;
}
}  // namespace chatvault::testing
