#include "vault/transport_replies.h"

#include <nlohmann/json.hpp>

namespace chatvault::vault {
namespace {

ApiReply Error(int status, const char* code, const char* message) {
  ApiReply reply;
  reply.status = status;
  reply.body = nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump();
  return reply;
}

}  // namespace

ApiReply UnsupportedEncodingReply() {
  return Error(415, "unsupported_encoding", "the request body must not be compressed");
}

ApiReply UnsupportedTransferReply() {
  return Error(501, "not_implemented", "the only transfer encoding accepted is chunked");
}

ApiReply HeadersTooLargeReply() {
  return Error(431, "headers_too_large", "the request header is too large or has too many fields");
}

ApiReply BusyReply() { return Error(503, "unavailable", "the vault is busy; retry in a moment"); }

ApiReply MetricsUnauthorizedReply() {
  return Error(401, "unauthorized", "the metrics need the operator's bearer token");
}

}  // namespace chatvault::vault
