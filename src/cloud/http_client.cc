#include "chatvault/cloud/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <mutex>
#include <thread>

#include "chatvault/common/mutex.h"
#include "chatvault/crypto/secret.h"

namespace chatvault::cloud {
namespace {

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct UploadCursor {
  ByteView data;
  size_t offset = 0;
};

size_t ReadBody(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* cursor = static_cast<UploadCursor*>(userdata);
  const size_t n = std::min(size * nitems, cursor->data.size() - cursor->offset);
  if (n > 0) std::memcpy(buffer, cursor->data.data() + cursor->offset, n);
  cursor->offset += n;
  return n;
}

// Lets curl rewind the upload when it must resend (redirect, auth negotiation).
int SeekBody(void* userdata, curl_off_t offset, int origin) {
  auto* cursor = static_cast<UploadCursor*>(userdata);
  if (origin != SEEK_SET || offset < 0 || static_cast<size_t>(offset) > cursor->data.size()) {
    return CURL_SEEKFUNC_CANTSEEK;
  }
  cursor->offset = static_cast<size_t>(offset);
  return CURL_SEEKFUNC_OK;
}

size_t WriteBody(char* ptr, size_t size, size_t nmemb, void* userdata) {
  auto* out = static_cast<Bytes*>(userdata);
  out->insert(out->end(), reinterpret_cast<uint8_t*>(ptr), reinterpret_cast<uint8_t*>(ptr) + size * nmemb);
  return size * nmemb;
}

size_t WriteHeader(char* buffer, size_t size, size_t nitems, void* userdata) {
  auto* headers = static_cast<std::map<std::string, std::string>*>(userdata);
  std::string_view line(buffer, size * nitems);
  if (line.starts_with("HTTP/")) headers->clear();  // a new response (after 100 Continue)
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return std::tolower(c); });
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    (*headers)[name] = std::string(value);
  }
  return size * nitems;
}

// Strips "user:pass@" from a URL so it can appear in a message.
std::string WithoutUserInfo(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const size_t host_start = scheme + 3;
  const size_t path = url.find('/', host_start);
  const size_t at = url.rfind('@', path == std::string::npos ? url.size() : path);
  if (at == std::string::npos || at < host_start) return url;
  return url.substr(0, host_start) + url.substr(at + 1);
}

}  // namespace

// Idle curl handles keep their connections open, so consecutive requests reuse them.
struct HttpClient::State {
  Mutex mu;
  std::vector<CURL*> idle CV_GUARDED_BY(mu);
  std::vector<std::string> resolve;  // set before the first request, then only read

  CURL* Borrow() {
    MutexLock lock(mu);
    if (idle.empty()) return curl_easy_init();
    CURL* c = idle.back();
    idle.pop_back();
    return c;
  }
  void Return(CURL* c) {
    MutexLock lock(mu);
    idle.push_back(c);
  }
};

HttpRequest::~HttpRequest() {
  crypto::Wipe({reinterpret_cast<uint8_t*>(userpwd.data()), userpwd.size()});
}

HttpClient::HttpClient(RetryPolicy policy) : state_(std::make_unique<State>()), policy_(policy) {
  GlobalInitOnce();
}

HttpClient::~HttpClient() {
  for (CURL* c : state_->idle) curl_easy_cleanup(c);
}

void HttpClient::AddResolve(std::string entry) { state_->resolve.push_back(std::move(entry)); }

std::string DescribeRequest(const HttpRequest& request) {
  std::string url = WithoutUserInfo(request.url);
  // Query strings can carry tokens (pre-signed URLs); the path is enough to say what failed.
  const size_t q = url.find('?');
  if (q != std::string::npos) url.resize(q);
  return request.method + " " + url;
}

Result<HttpResponse> HttpClient::Once(const HttpRequest& request) {
  CURL* curl = state_->Borrow();
  if (!curl) return Internal("libcurl could not create a handle");
  struct Giveback {
    State* state;
    CURL* curl;
    ~Giveback() { state->Return(curl); }
  } giveback{state_.get(), curl};
  curl_easy_reset(curl);

  HttpResponse response;
  UploadCursor cursor{request.body, 0};
  char error[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  curl_slist* resolve = nullptr;
  curl_mime* mime = nullptr;
  for (const std::string& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  // An "Expect:" override would be signed by SigV4 as an empty header the server never sees,
  // so curl keeps its default (100-continue for bodies above 1 MiB), which S3 expects anyway.
  for (const std::string& r : state_->resolve) resolve = curl_slist_append(resolve, r.c_str());

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(policy_.request_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(policy_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, static_cast<long>(policy_.stall_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, WriteBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &response.body);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, WriteHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &response.headers);
  if (resolve) curl_easy_setopt(curl, CURLOPT_RESOLVE, resolve);
  if (!request.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, request.ca_file.c_str());
  if (!request.userpwd.empty()) {
    curl_easy_setopt(curl, CURLOPT_USERPWD, request.userpwd.c_str());
    if (request.aws_sigv4.empty()) curl_easy_setopt(curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
  }
  if (!request.aws_sigv4.empty()) curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, request.aws_sigv4.c_str());

  if (!request.form_file_field.empty()) {
    mime = curl_mime_init(curl);
    curl_mimepart* part = curl_mime_addpart(mime);
    curl_mime_name(part, request.form_file_field.c_str());
    curl_mime_filename(part, request.form_file_name.c_str());
    curl_mime_data(part, reinterpret_cast<const char*>(request.body.data()), request.body.size());
    curl_easy_setopt(curl, CURLOPT_MIMEPOST, mime);
  } else if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (!request.body.empty() || request.send_body) {
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(curl, CURLOPT_READDATA, &cursor);
    curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, SeekBody);
    curl_easy_setopt(curl, CURLOPT_SEEKDATA, &cursor);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  if (request.method != "GET" && request.method != "HEAD") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  const CURLcode rc = curl_easy_perform(curl);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  // The handle keeps a copy of the credentials until the next reset; clear it now.
  curl_easy_setopt(curl, CURLOPT_USERPWD, nullptr);
  curl_slist_free_all(headers);
  curl_slist_free_all(resolve);
  if (mime) curl_mime_free(mime);

  if (rc != CURLE_OK) {
    std::string why = error[0] ? error : curl_easy_strerror(rc);
    while (!why.empty() && (why.back() == '\n' || why.back() == '\r')) why.pop_back();
    return Unavailable(DescribeRequest(request) + " failed: " + why);
  }
  return response;
}

Result<HttpResponse> HttpClient::WithRetry(const HttpRequest& request) {
  Status last;
  for (int attempt = 1;; ++attempt) {
    if (attempt > 1) std::this_thread::sleep_for(BackoffDelay(policy_, attempt));
    Result<HttpResponse> r = Once(request);
    const bool last_attempt = attempt >= policy_.max_attempts;
    if (r.ok()) {
      if (!IsRetryableStatus(r->status) || last_attempt) return r;
      continue;
    }
    if (r.status().code() != Code::kUnavailable || last_attempt) {
      if (attempt > 1 && r.status().code() == Code::kUnavailable) {
        return Unavailable(r.status().message() + " (gave up after " + std::to_string(attempt) +
                           " attempts)");
      }
      return r.status();
    }
  }
}

std::string UrlEncode(std::string_view text, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    const bool unreserved = std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
    if (unreserved || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string UrlDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && std::isxdigit(static_cast<unsigned char>(text[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(text[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

}  // namespace chatvault::cloud
