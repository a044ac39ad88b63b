// Checks the --json contract of a command (docs/CLI.md): exactly the documented fields, each of
// its documented type.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

namespace chatvault::testing {

enum class JsonType { kInt, kNumber, kText, kBool, kObject, kArray };
using JsonShape = std::map<std::string, JsonType>;

// "sequence:int seconds:number to:text md5:bool current:object warnings:array" as a shape.
inline JsonShape Fields(const std::string& spec) {
  static const std::map<std::string, JsonType> kTypes = {
      {"int", JsonType::kInt},   {"number", JsonType::kNumber}, {"text", JsonType::kText},
      {"bool", JsonType::kBool}, {"object", JsonType::kObject}, {"array", JsonType::kArray}};
  JsonShape shape;
  std::istringstream words(spec);
  for (std::string word; words >> word;) {
    const size_t colon = word.find(':');
    shape[word.substr(0, colon)] = kTypes.at(word.substr(colon + 1));
  }
  return shape;
}

inline bool HasType(const nlohmann::json& value, JsonType type) {
  switch (type) {
    case JsonType::kInt: return value.is_number_integer();
    case JsonType::kNumber: return value.is_number();
    case JsonType::kText: return value.is_string();
    case JsonType::kBool: return value.is_boolean();
    case JsonType::kObject: return value.is_object();
    case JsonType::kArray: return value.is_array();
  }
  return false;
}

// `object` has exactly the fields of `shape`, each of its type.
inline ::testing::AssertionResult HasShape(const nlohmann::json& object, const JsonShape& shape) {
  if (!object.is_object()) return ::testing::AssertionFailure() << "not an object: " << object;
  for (const auto& [name, type] : shape) {
    if (!object.contains(name)) {
      return ::testing::AssertionFailure() << "no " << name << " in " << object;
    }
    if (!HasType(object[name], type)) {
      return ::testing::AssertionFailure() << name << " has the wrong type in " << object;
    }
  }
  for (const auto& [name, value] : object.items()) {
    if (!shape.count(name)) {
      return ::testing::AssertionFailure() << "undocumented " << name << " in " << object;
    }
  }
  return ::testing::AssertionSuccess();
}

// A successful command's output: {"ok": true} plus `fields`.
inline ::testing::AssertionResult IsSuccessWith(const std::string& out,
                                                const std::string& fields_spec) {
  JsonShape fields = Fields(fields_spec);
  const nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  if (j.is_discarded()) return ::testing::AssertionFailure() << "not one JSON object: " << out;
  if (j.value("ok", false) != true) return ::testing::AssertionFailure() << "not ok: " << out;
  fields["ok"] = JsonType::kBool;
  return HasShape(j, fields);
}

// A failed command's output: {"ok": false, "error": {"code": `code`, "message": "..."}}.
inline ::testing::AssertionResult IsFailure(const std::string& out, const std::string& code) {
  const nlohmann::json j = nlohmann::json::parse(out, nullptr, false);
  if (j.is_discarded()) return ::testing::AssertionFailure() << "not one JSON object: " << out;
  if (auto r = HasShape(j, Fields("ok:bool error:object")); !r) return r;
  if (j["ok"] != false) return ::testing::AssertionFailure() << "ok is not false: " << out;
  const nlohmann::json& e = j["error"];
  if (auto r = HasShape(e, Fields("code:text message:text")); !r) return r;
  if (e["code"] != code) {
    return ::testing::AssertionFailure() << "code is not " << code << ": " << out;
  }
  if (e["message"].get<std::string>().empty()) return ::testing::AssertionFailure() << "no message";
  return ::testing::AssertionSuccess();
}

}  // namespace chatvault::testing
