// A small blocking HTTP client over libcurl, shared by the S3, WebDAV and rclone providers and
// the vault client. libcurl reconnects when a kept-alive connection was closed by the server, and
// never lets a write to a closed socket raise SIGPIPE.
// Safe to use from several threads: each request borrows its own curl handle from a pool. Credentials are handed to curl
// through options (never in the URL) and error messages are built from the method and the
// credential-free URL only, so no secret can end up in a message or a log.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "chatvault/cloud/retry.h"
#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"

namespace chatvault::cloud {

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  ByteView body;                     // sent for any method when non-empty or send_body is set
  bool send_body = false;            // send an empty body (Content-Length: 0)
  // "aws:amz:REGION:s3" for AWS SigV4; empty for none.
  std::string aws_sigv4;
  // user:password for SigV4 (key id:secret) or HTTP basic/digest auth. Wiped after use.
  std::string userpwd;
  // multipart/form-data upload of `body` as one file field (rclone's uploadfile).
  std::string form_file_field;
  std::string form_file_name;
  // PEM file of the CAs to trust, or a pinned self-signed certificate; empty: the system's CAs.
  std::string ca_file;

  HttpRequest() = default;
  HttpRequest(const HttpRequest&) = default;
  HttpRequest& operator=(const HttpRequest&) = default;
  ~HttpRequest();  // wipes userpwd
};

struct HttpResponse {
  long status = 0;
  Bytes body;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

class HttpClient {
 public:
  explicit HttpClient(RetryPolicy policy);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // One attempt. Transport failures (refused, reset, timeout) are kUnavailable; any HTTP status
  // is a successful result for the caller to judge.
  Result<HttpResponse> Once(const HttpRequest& request);

  // Retries transport failures, 5xx and 429 as the policy says. After the last attempt a 5xx
  // comes back as a response (the caller words the error), a transport failure as kUnavailable.
  Result<HttpResponse> WithRetry(const HttpRequest& request);

  // Pins "host:port:address" like curl --resolve.
  void AddResolve(std::string entry);

  const RetryPolicy& policy() const { return policy_; }

 private:
  struct State;
  std::unique_ptr<State> state_;
  RetryPolicy policy_;
};

// Percent-encodes everything but RFC 3986 unreserved characters; keeps '/' when asked
// (object keys in paths) and encodes it otherwise (query values).
std::string UrlEncode(std::string_view text, bool keep_slash);
std::string UrlDecode(std::string_view text);

// "GET http://host/path: HTTP 503" style prefix; never includes credentials.
std::string DescribeRequest(const HttpRequest& request);

// True for statuses a retry can cure.
inline bool IsRetryableStatus(long status) { return status >= 500 || status == 429; }

}  // namespace chatvault::cloud
