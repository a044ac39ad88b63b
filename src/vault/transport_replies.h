// The transport's own answers, for requests it refuses before (or instead of) the API routes.
// Same JSON error shape as every other reply (docs/API.md).
#pragma once

#include <string>

#include "vault/api_routes.h"

namespace chatvault::vault {

// 415 unsupported_encoding: a Content-Encoding other than identity (a compressed body could
// expand far beyond the body limit).
ApiReply UnsupportedEncodingReply();
// 501 not_implemented: a Transfer-Encoding other than chunked.
ApiReply UnsupportedTransferReply();
// 431 headers_too_large: the header is over its size or field-count limit.
ApiReply HeadersTooLargeReply();
// 503 unavailable: every worker is busy and the queue in front of them is full.
ApiReply BusyReply();
// 401 unauthorized: /metrics without the right bearer token.
ApiReply MetricsUnauthorizedReply();

}  // namespace chatvault::vault
