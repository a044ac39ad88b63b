#include <optional>
#include <string>

#include "chatvault/common/scheme_registry.h"
#include "chatvault/storage/local_provider.h"
#include "chatvault/storage/provider.h"

namespace chatvault::storage {
namespace {

using Registry = SchemeRegistry<ProviderFactory>;

Result<ProviderFactory> FindFactory(std::string_view scheme) {
  std::optional<ProviderFactory> factory = Registry::Instance().Find(scheme);
  if (!factory) {
    return Unsupported("this build of chatvault has no provider for '" + std::string(scheme) +
                       "' locations");
  }
  return *std::move(factory);
}

// "s3" for "s3://bucket/x"; empty when the location has no URL scheme.
std::string_view SchemeOf(std::string_view location) {
  const size_t colon = location.find("://");
  if (colon == std::string_view::npos || colon == 0) return {};
  for (char c : location.substr(0, colon)) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '+' || c == '-' || c == '.';
    if (!ok) return {};
  }
  return location.substr(0, colon);
}

}  // namespace

void RegisterScheme(std::string scheme, ProviderFactory factory) {
  Registry::Instance().Register(std::move(scheme), std::move(factory));
}

Result<std::unique_ptr<Provider>> OpenProvider(std::string_view location) {
  if (location.empty()) return InvalidArgument("the backup location is empty");
  if (location.starts_with("rclone:")) {
    CV_ASSIGN_OR_RETURN(ProviderFactory factory, FindFactory("rclone"));
    return factory(location);
  }
  const std::string_view scheme = SchemeOf(location);
  if (scheme == "file") {
    std::string_view path = location.substr(7);  // after "file://"
    if (!path.starts_with("/")) {
      return InvalidArgument("a file:// location needs an absolute path, as in file:///backups");
    }
    return OpenLocalProvider(std::string(path));
  }
  if (!scheme.empty()) {
    CV_ASSIGN_OR_RETURN(ProviderFactory factory, FindFactory(scheme));
    return factory(location);
  }
  return OpenLocalProvider(std::string(location));
}

}  // namespace chatvault::storage
