// Loads the JSON test vectors of tests/vectors/opaque and reads hex fields from them.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "support/test_hex.h"

namespace chatvault::testing {

inline nlohmann::json LoadOpaqueVectors(const std::string& name) {
  std::ifstream in(std::string(CHATVAULT_VECTORS_DIR) + "/opaque/" + name);
  EXPECT_TRUE(in.good()) << "missing vector file " << name;
  return nlohmann::json::parse(in);
}

// A hex field, or empty bytes when the vector omits it (the optional identities).
inline Bytes HexField(const nlohmann::json& obj, const char* key) {
  if (!obj.contains(key)) return {};
  return Hex(obj.at(key).get<std::string>());
}

template <typename A>
Bytes ToVec(const A& a) {
  return Bytes(a.begin(), a.end());
}

}  // namespace chatvault::testing
