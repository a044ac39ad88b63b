// S3 provider. Every request is signed by libcurl (AWS SigV4) and carries the SHA-256 of its
// payload in x-amz-content-sha256, so the server verifies integrity as well as identity.
//
// Conditional create: S3 honours `If-None-Match: *` on PUT (AWS since 2024, MinIO, Ceph) and
// answers 412 when the key exists. Servers that ignore the header would overwrite silently, so
// PutIfAbsent first asks HEAD and only then sends the conditional PUT. On a server that ignores
// the header two writers racing between HEAD and PUT can both "win"; chatvault tolerates that
// because object names are content addresses (same name, same bytes) or unique per backup.
#include <algorithm>
#include <map>
#include <string>

#include "chatvault/cloud/http_client.h"
#include "chatvault/cloud/s3_provider.h"
#include "chatvault/common/mutex.h"
#include "chatvault/crypto/hash.h"
#include "chatvault/storage/local_provider.h"
#include "cloud/xml_tree.h"

namespace chatvault::cloud {
namespace {

constexpr uint64_t kMinPartSize = 5ull << 20;  // S3's floor for every part but the last
constexpr int kMaxParts = 10000;

// A multipart upload that failed part-way, kept so that retrying the same Put resumes it
// instead of sending every part again.
struct PendingUpload {
  std::string upload_id;
  Bytes content_hash;                   // SHA-256 of the whole object: resume only identical data
  std::map<int, std::string> etags;     // part number -> ETag of parts the server has
};

class S3Provider : public storage::Provider {
 public:
  explicit S3Provider(S3Options o) : o_(std::move(o)), http_(o_.retry) {
    for (const std::string& r : o_.resolve) http_.AddResolve(r);
    o_.part_size = std::max(o_.part_size, kMinPartSize);
    o_.multipart_threshold = std::max(o_.multipart_threshold, o_.part_size);
  }

  std::string Describe() const override {
    return "s3://" + o_.bucket + (o_.prefix.empty() ? "" : "/" + o_.prefix);
  }

  Status PutIfAbsent(std::string_view name, ByteView data) override {
    CV_RETURN_IF_ERROR(storage::ValidateObjectName(name));
    CV_ASSIGN_OR_RETURN(bool exists, Exists(name));
    if (exists) return Exists_(name);
    return Upload(name, data, /*if_absent=*/true);
  }

  Status Put(std::string_view name, ByteView data) override {
    CV_RETURN_IF_ERROR(storage::ValidateObjectName(name));
    return Upload(name, data, /*if_absent=*/false);
  }

  Result<Bytes> Get(std::string_view name) override {
    CV_RETURN_IF_ERROR(storage::ValidateObjectName(name));
    HttpRequest req = Signed("GET", ObjectUrl(name), {});
    CV_ASSIGN_OR_RETURN(HttpResponse r, http_.WithRetry(req));
    if (r.status == 404) {
      return NotFound("object " + std::string(name) + " is not in " + Describe());
    }
    if (r.status != 200) return Failure(req, r);
    return std::move(r.body);
  }

  Result<std::vector<storage::ObjectInfo>> List(std::string_view prefix) override {
    std::vector<storage::ObjectInfo> out;
    const std::string full_prefix = KeyOf(prefix);
    std::string token;
    for (;;) {
      // SigV4 signs the query string in sorted order; keep the parameters sorted by name.
      std::string query;
      if (!token.empty()) query += "continuation-token=" + UrlEncode(token, false) + "&";
      query += "list-type=2&max-keys=" + std::to_string(o_.list_page_size) +
               "&prefix=" + UrlEncode(full_prefix, false);
      HttpRequest req = Signed("GET", BucketUrl() + "?" + query, {});
      CV_ASSIGN_OR_RETURN(HttpResponse r, http_.WithRetry(req));
      if (r.status != 200) return Failure(req, r);
      CV_ASSIGN_OR_RETURN(XmlElement doc, ParseXml(AsChars(r.body)));
      if (doc.name != "ListBucketResult") return Corrupted(DescribeRequest(req) + ": not a ListBucketResult");
      const size_t strip = o_.prefix.empty() ? 0 : o_.prefix.size() + 1;
      for (const XmlElement* c : doc.Children("Contents")) {
        const std::string key = c->ChildText("Key");
        if (key.size() <= strip || !key.starts_with(full_prefix)) continue;
        std::string name = key.substr(strip);
        // Foreign keys (written by other tools into the same prefix) are not our objects.
        if (!storage::ValidateObjectName(name).ok()) continue;
        uint64_t size = 0;
        try {
          size = std::stoull(c->ChildText("Size"));
        } catch (...) {
          return Corrupted(DescribeRequest(req) + ": object " + name + " has no valid size");
        }
        out.push_back({std::move(name), size});
      }
      token = doc.ChildText("NextContinuationToken");
      if (doc.ChildText("IsTruncated") != "true") break;
      if (token.empty()) return Corrupted(DescribeRequest(req) + ": truncated listing without a continuation token");
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
  }

  Status Delete(std::string_view name) override {
    CV_RETURN_IF_ERROR(storage::ValidateObjectName(name));
    HttpRequest req = Signed("DELETE", ObjectUrl(name), {});
    CV_ASSIGN_OR_RETURN(HttpResponse r, http_.WithRetry(req));
    if (r.status == 204 || r.status == 200 || r.status == 404) return OkStatus();
    return Failure(req, r);
  }

 private:
  static Status Exists_(std::string_view name) {
    return AlreadyExists("object " + std::string(name) + " exists");
  }

  Result<bool> Exists(std::string_view name) {
    HttpRequest req = Signed("HEAD", ObjectUrl(name), {});
    CV_ASSIGN_OR_RETURN(HttpResponse r, http_.WithRetry(req));
    if (r.status == 200) return true;
    if (r.status == 404) return false;
    return Failure(req, r);
  }

  Status Upload(std::string_view name, ByteView data, bool if_absent) {
    if (data.size() > o_.multipart_threshold) return UploadMultipart(name, data, if_absent);
    HttpRequest req = Signed("PUT", ObjectUrl(name), data);
    if (if_absent) req.headers.push_back("If-None-Match: *");
    req.send_body = true;
    CV_ASSIGN_OR_RETURN(HttpResponse r, http_.WithRetry(req));
    if (r.status == 200) return OkStatus();
    if (r.status == 412 && if_absent) return Exists_(name);
    return Failure(req, r);
  }

  Status UploadMultipart(std::string_view name, ByteView data, bool if_absent) {
    const std::string key = KeyOf(name);
    const Bytes hash = crypto::Sha256(data);
    PendingUpload upload;
    {
      MutexLock lock(pending_mu_);
      auto it = pending_.find(key);
      if (it != pending_.end() && it->second.content_hash == hash) upload = it->second;
      pending_.erase(key);
    }
    if (upload.upload_id.empty()) {
      HttpRequest req = Signed("POST", ObjectUrl(name) + "?uploads=", {});
      CV_ASSIGN_OR_RETURN(HttpResponse r, http_.WithRetry(req));
      if (r.status != 200) return Failure(req, r);
      CV_ASSIGN_OR_RETURN(XmlElement doc, ParseXml(AsChars(r.body)));
      upload.upload_id = doc.ChildText("UploadId");
      if (upload.upload_id.empty()) return Corrupted(DescribeRequest(req) + ": no UploadId in the answer");
      upload.content_hash = hash;
    }
    const uint64_t parts = (data.size() + o_.part_size - 1) / o_.part_size;
    if (parts > kMaxParts) return InvalidArgument("object " + std::string(name) + " is too large for S3");
    for (uint64_t i = 0; i < parts; ++i) {
      const int number = static_cast<int>(i + 1);
      if (upload.etags.count(number)) continue;  // sent before an interruption
      const uint64_t offset = i * o_.part_size;
      const ByteView part = data.subspan(offset, std::min<uint64_t>(o_.part_size, data.size() - offset));
      HttpRequest req = Signed("PUT", ObjectUrl(name) + "?partNumber=" + std::to_string(number) +
                                          "&uploadId=" + UrlEncode(upload.upload_id, false),
                               part);
      Result<HttpResponse> r = http_.WithRetry(req);
      Status failed;
      if (!r.ok()) failed = r.status();
      else if (r->status != 200 || r->Header("etag").empty()) failed = Failure(req, *r);
      if (!failed.ok()) {
        Remember(key, std::move(upload));
        return failed;
      }
      upload.etags[number] = r->Header("etag");
    }
    std::string xml = "<CompleteMultipartUpload>";
    for (const auto& [number, etag] : upload.etags) {
      xml += "<Part><PartNumber>" + std::to_string(number) + "</PartNumber><ETag>" + etag + "</ETag></Part>";
    }
    xml += "</CompleteMultipartUpload>";
    HttpRequest req = Signed("POST", ObjectUrl(name) + "?uploadId=" + UrlEncode(upload.upload_id, false),
                             AsBytes(xml));
    if (if_absent) req.headers.push_back("If-None-Match: *");
    Result<HttpResponse> r = http_.WithRetry(req);
    if (!r.ok()) {
      Remember(key, std::move(upload));
      return r.status();
    }
    if (r->status == 412 && if_absent) return Exists_(name);
    // S3 may answer 200 and still report an error in the body once the parts are assembled.
    Result<XmlElement> doc = ParseXml(AsChars(r->body));
    if (r->status != 200 || !doc.ok() || doc->name == "Error") {
      Status s = Failure(req, *r);
      if (IsRetryableStatus(r->status) || (doc.ok() && doc->name == "Error")) Remember(key, std::move(upload));
      return s;
    }
    return OkStatus();
  }

  void Remember(const std::string& key, PendingUpload upload) CV_EXCLUDES(pending_mu_) {
    MutexLock lock(pending_mu_);
    pending_[key] = std::move(upload);
  }

  std::string KeyOf(std::string_view name) const {
    if (o_.prefix.empty()) return std::string(name);
    return o_.prefix + "/" + std::string(name);
  }

  std::string BucketUrl() const {
    if (o_.style == S3AddressingStyle::kPath) return o_.endpoint + "/" + o_.bucket;
    const size_t scheme = o_.endpoint.find("://") + 3;
    return o_.endpoint.substr(0, scheme) + o_.bucket + "." + o_.endpoint.substr(scheme);
  }

  std::string ObjectUrl(std::string_view name) const {
    std::string base = BucketUrl();
    return base + "/" + UrlEncode(KeyOf(name), /*keep_slash=*/true);
  }

  HttpRequest Signed(std::string method, std::string url, ByteView body) {
    HttpRequest req;
    req.method = std::move(method);
    req.url = std::move(url);
    req.body = body;
    req.aws_sigv4 = "aws:amz:" + o_.region + ":s3";
    req.userpwd = o_.access_key_id + ":" + std::string(AsChars(o_.secret_access_key.view()));
    req.headers.push_back("x-amz-content-sha256: " + HexEncode(crypto::Sha256(body)));
    if (!o_.session_token.empty()) {
      req.headers.push_back("x-amz-security-token: " + std::string(AsChars(o_.session_token.view())));
    }
    if (req.method == "POST" || req.method == "PUT") req.send_body = true;
    return req;
  }

  // One sentence from an unexpected answer: the S3 error code and message, never credentials.
  Status Failure(const HttpRequest& req, const HttpResponse& r) const {
    std::string detail;
    Result<XmlElement> doc = ParseXml(AsChars(r.body));
    if (doc.ok() && doc->name == "Error") {
      detail = doc->ChildText("Code");
      const std::string message = doc->ChildText("Message");
      if (!message.empty()) detail += " - " + message;
    }
    const std::string what = DescribeRequest(req) + " answered HTTP " + std::to_string(r.status) +
                             (detail.empty() ? "" : " (" + detail + ")");
    if (r.status == 401 || r.status == 403) {
      return PermissionDenied(what + "; check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_REGION");
    }
    if (r.status == 404) return NotFound(what + "; does bucket " + o_.bucket + " exist?");
    if (IsRetryableStatus(r.status)) return Unavailable(what);
    return IoError(what);
  }

  S3Options o_;
  HttpClient http_;
  Mutex pending_mu_;
  std::map<std::string, PendingUpload> pending_ CV_GUARDED_BY(pending_mu_);
};

}  // namespace

std::unique_ptr<storage::Provider> OpenS3Provider(S3Options options) {
  return std::make_unique<S3Provider>(std::move(options));
}

}  // namespace chatvault::cloud
