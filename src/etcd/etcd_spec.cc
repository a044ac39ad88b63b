#include <charconv>

#include "chatvault/etcd/etcd_record_store.h"

namespace chatvault::etcd {
namespace {

constexpr std::string_view kScheme = "etcd://";

std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  while (true) {
    const size_t at = text.find(sep);
    parts.push_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

Status CheckEndpoint(std::string_view endpoint) {
  const size_t colon = endpoint.rfind(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == endpoint.size()) {
    return InvalidArgument("etcd endpoint '" + std::string(endpoint) +
                           "' must be host:port, as in 10.0.0.5:2379");
  }
  int port = 0;
  const std::string_view digits = endpoint.substr(colon + 1);
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
  if (ec != std::errc() || end != digits.data() + digits.size() || port <= 0 || port > 65535) {
    return InvalidArgument("etcd endpoint '" + std::string(endpoint) + "' has a bad port number");
  }
  return OkStatus();
}

Result<std::chrono::milliseconds> ParseMillis(std::string_view name, std::string_view value) {
  long ms = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), ms);
  if (ec != std::errc() || end != value.data() + value.size() || ms <= 0 || ms > 600000) {
    return InvalidArgument("etcd option " + std::string(name) +
                           " must be a number of milliseconds between 1 and 600000");
  }
  return std::chrono::milliseconds(ms);
}

}  // namespace

Result<EtcdOptions> ParseEtcdSpec(std::string_view spec) {
  if (spec.substr(0, kScheme.size()) != kScheme) {
    return InvalidArgument("an etcd store is given as etcd://host:port,host:port[/prefix/]");
  }
  spec.remove_prefix(kScheme.size());
  EtcdOptions options;
  std::string_view query;
  if (const size_t q = spec.find('?'); q != std::string_view::npos) {
    query = spec.substr(q + 1);
    spec = spec.substr(0, q);
  }
  if (const size_t slash = spec.find('/'); slash != std::string_view::npos) {
    std::string prefix(spec.substr(slash + 1));
    if (!prefix.empty()) {
      if (prefix.back() != '/') prefix += '/';
      options.key_prefix = std::move(prefix);
    }
    spec = spec.substr(0, slash);
  }
  for (std::string_view endpoint : Split(spec, ',')) {
    CV_RETURN_IF_ERROR(CheckEndpoint(endpoint));
    options.endpoints.emplace_back(endpoint);
  }
  if (!query.empty()) {
    for (std::string_view pair : Split(query, '&')) {
      const size_t eq = pair.find('=');
      const std::string_view name = pair.substr(0, eq);
      const std::string_view value =
          eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
      if (name == "timeout_ms") {
        CV_ASSIGN_OR_RETURN(options.operation_timeout, ParseMillis(name, value));
      } else if (name == "attempt_ms") {
        CV_ASSIGN_OR_RETURN(options.attempt_timeout, ParseMillis(name, value));
      } else if (name == "cacert") {
        options.ca_file = value;
      } else if (name == "cert") {
        options.cert_file = value;
      } else if (name == "key") {
        options.key_file = value;
      } else {
        return InvalidArgument("unknown etcd option '" + std::string(name) +
                               "' (known: timeout_ms, attempt_ms, cacert, cert, key)");
      }
    }
  }
  return options;
}

}  // namespace chatvault::etcd
