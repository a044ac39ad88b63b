// A process-wide table of factories by scheme name ("s3", "etcd"): the libraries that provide a
// scheme register it from a static initializer, and whoever opens a location looks it up. One
// table per factory type.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chatvault/common/mutex.h"

namespace chatvault {

template <typename Factory>
class SchemeRegistry {
 public:
  // Never destroyed: schemes register from static initializers, in no particular order with the
  // destructors of other statics.
  static SchemeRegistry& Instance() {
    static SchemeRegistry* registry = new SchemeRegistry;
    return *registry;
  }

  // A later registration of the same scheme replaces the earlier one.
  void Register(std::string scheme, Factory factory) {
    MutexLock lock(mu_);
    factories_[std::move(scheme)] = std::move(factory);
  }

  std::optional<Factory> Find(std::string_view scheme) const {
    MutexLock lock(mu_);
    auto it = factories_.find(scheme);
    if (it == factories_.end()) return std::nullopt;
    return it->second;
  }

  // In byte order.
  std::vector<std::string> Schemes() const {
    MutexLock lock(mu_);
    std::vector<std::string> schemes;
    for (const auto& entry : factories_) schemes.push_back(entry.first);
    return schemes;
  }

 private:
  SchemeRegistry() = default;

  mutable Mutex mu_;
  std::map<std::string, Factory, std::less<>> factories_ CV_GUARDED_BY(mu_);
};

}  // namespace chatvault
