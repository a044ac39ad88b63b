#include <string>

#include "chatvault/storage/local_provider.h"

namespace chatvault::storage {
namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

}  // namespace

Status ValidateObjectName(std::string_view name) {
  if (name.empty()) return InvalidArgument("an object name cannot be empty");
  if (name.size() > 1024) return InvalidArgument("object name is longer than 1024 characters");
  size_t start = 0;
  while (start <= name.size()) {
    size_t end = name.find('/', start);
    if (end == std::string_view::npos) end = name.size();
    const std::string_view part = name.substr(start, end - start);
    // Hidden components are reserved: local temp files start with '.', and this also rules out
    // "." and "..", so a name can never climb out of the provider's root.
    if (part.empty() || part.front() == '.') {
      return InvalidArgument("object name '" + std::string(name) +
                             "' has an empty or hidden path component");
    }
    for (char c : part) {
      if (!IsNameChar(c)) {
        return InvalidArgument("object name '" + std::string(name) +
                               "' may hold only letters, digits, '.', '_', '-' and '/'");
      }
    }
    start = end + 1;
  }
  return OkStatus();
}

}  // namespace chatvault::storage
