// keyvaultd's JSON API (docs/API.md), independent of the transport: one request in, one reply
// out. The HTTPS front end (http_server.cc) owns sockets, TLS and resource limits; this file owns
// what a request means.
#pragma once

#include <string>

#include "chatvault/vault/metrics.h"
#include "chatvault/vault/realm_service.h"
#include "chatvault/vault/vault_service.h"

namespace chatvault::vault {

// What the transport hands over once a request is complete and within its limits.
struct ApiRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // the request target without a query string
  std::string body;
  // The client's X-Request-Id header, if any; the routes keep it when it is short and plain, and
  // make one up otherwise. It ties a request's audit lines to the client's and proxies' logs.
  std::string request_id;
};

struct ApiReply {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
};

class ApiRoutes {
 public:
  // Either service may be null (a test serves only one): its routes then answer no_such_route.
  ApiRoutes(VaultService* service, RealmService* realm, Metrics& metrics)
      : service_(service), realm_(realm), metrics_(metrics) {}

  // Never throws; every failure is a JSON error reply (docs/API.md).
  ApiReply Handle(const ApiRequest& request);

  // The reply for a request the transport refused before it was complete (413, 400, ...).
  ApiReply TransportError(int status);

 private:
  ApiReply HandleRealm(const ApiRequest& request, const std::string& request_id);

  VaultService* service_;
  RealmService* realm_;
  Metrics& metrics_;
};

}  // namespace chatvault::vault
