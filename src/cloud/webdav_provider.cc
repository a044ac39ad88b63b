// WebDAV provider. Writers never expose partial objects: the bytes go to a hidden temporary
// name in the destination collection, then one MOVE publishes them. `Overwrite: F` makes the
// server refuse (412) when the name exists, which is put-if-absent done by the server itself;
// Put uses `Overwrite: T`, an atomic replace on servers that rename within one file system.
#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <set>
#include <string>

#include "chatvault/cloud/http_client.h"
#include "chatvault/cloud/webdav_provider.h"
#include "chatvault/common/mutex.h"
#include "chatvault/crypto/random.h"
#include "chatvault/storage/local_provider.h"
#include "cloud/xml_tree.h"

namespace chatvault::cloud {
namespace {

constexpr char kPropfindBody[] =
    "<?xml version=\"1.0\" encoding=\"utf-8\"?>"
    "<D:propfind xmlns:D=\"DAV:\"><D:prop><D:resourcetype/><D:getcontentlength/></D:prop>"
    "</D:propfind>";

class WebDavProvider : public storage::Provider {
 public:
  explicit WebDavProvider(WebDavOptions o) : o_(std::move(o)), http_(o_.retry) {
    const size_t scheme = o_.base_url.find("://") + 3;
    const size_t path = o_.base_url.find('/', scheme);
    origin_ = path == std::string::npos ? o_.base_url : o_.base_url.substr(0, path);
    base_path_ = path == std::string::npos ? "" : UrlDecode(o_.base_url.substr(path));
  }

  std::string Describe() const override {
    return (o_.base_url.starts_with("https") ? "webdavs" : "webdav") +
           o_.base_url.substr(o_.base_url.find("://"));
  }

  Status PutIfAbsent(std::string_view name, ByteView data) override {
    CV_RETURN_IF_ERROR(storage::ValidateObjectName(name));
    return Publish(name, data, /*overwrite=*/false);
  }

  Status Put(std::string_view name, ByteView data) override {
    CV_RETURN_IF_ERROR(storage::ValidateObjectName(name));
    return Publish(name, data, /*overwrite=*/true);
  }

  Result<Bytes> Get(std::string_view name) override {
    CV_RETURN_IF_ERROR(storage::ValidateObjectName(name));
    HttpRequest req = Request("GET", UrlOf(name));
    CV_ASSIGN_OR_RETURN(HttpResponse r, http_.WithRetry(req));
    if (r.status == 404) return NotFound("object " + std::string(name) + " is not in " + Describe());
    if (r.status != 200) return Failure(req, r);
    return std::move(r.body);
  }

  Result<std::vector<storage::ObjectInfo>> List(std::string_view prefix) override {
    std::vector<storage::ObjectInfo> out;
    // Start in the deepest collection the prefix is certainly inside, as the local provider does.
    const size_t slash = prefix.find_last_of('/');
    const std::string start = slash == std::string_view::npos ? "" : std::string(prefix.substr(0, slash));
    CV_RETURN_IF_ERROR(Walk(start, prefix, out, 0));
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
  }

  Status Delete(std::string_view name) override {
    CV_RETURN_IF_ERROR(storage::ValidateObjectName(name));
    HttpRequest req = Request("DELETE", UrlOf(name));
    CV_ASSIGN_OR_RETURN(HttpResponse r, http_.WithRetry(req));
    if (r.status == 200 || r.status == 204 || r.status == 404) return OkStatus();
    return Failure(req, r);
  }

 private:
  Status Publish(std::string_view name, ByteView data, bool overwrite) {
    const std::string object(name);
    const size_t slash = object.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "" : object.substr(0, slash);
    CV_RETURN_IF_ERROR(MakeCollections(dir));
    // Hidden name: List skips it, and ValidateObjectName forbids it, so it never collides.
    const std::string tmp = (dir.empty() ? "" : dir + "/") + ".tmp-" + HexEncode(crypto::RandomBytes(8));
    HttpRequest put = Request("PUT", UrlOf(tmp));
    put.body = data;
    put.send_body = true;
    CV_ASSIGN_OR_RETURN(HttpResponse pr, http_.WithRetry(put));
    if (pr.status == 409) {
      // A concurrent Delete of an emptied collection can remove our parent; make it again.
      {
        MutexLock lock(mu_);
        known_collections_.clear();
      }
      CV_RETURN_IF_ERROR(MakeCollections(dir));
      CV_ASSIGN_OR_RETURN(pr, http_.WithRetry(put));
    }
    if (pr.status != 200 && pr.status != 201 && pr.status != 204) return Failure(put, pr);

    HttpRequest move = Request("MOVE", UrlOf(tmp));
    move.headers.push_back("Destination: " + UrlOf(object));
    move.headers.push_back(overwrite ? "Overwrite: T" : "Overwrite: F");
    Result<HttpResponse> mr = http_.WithRetry(move);
    Status result;
    if (!mr.ok()) {
      result = mr.status();
    } else if (mr->status == 412 && !overwrite) {
      result = AlreadyExists("object " + object + " exists");
    } else if (mr->status == 404) {
      // The MOVE was applied but its answer was lost, and the retry found no source. Success
      // if the object is now there with our size (a concurrent writer of the same content
      // address is indistinguishable and equally fine).
      HttpRequest head = Request("HEAD", UrlOf(object));
      Result<HttpResponse> hr = http_.WithRetry(head);
      const bool landed = hr.ok() && hr->status == 200 &&
                          hr->Header("content-length") == std::to_string(data.size());
      result = landed ? OkStatus() : Failure(move, *mr);
    } else if (mr->status != 201 && mr->status != 204) {
      result = Failure(move, *mr);
    }
    if (!result.ok()) {
      HttpRequest cleanup = Request("DELETE", UrlOf(tmp));
      (void)http_.Once(cleanup);  // best effort; a leftover hidden file is harmless
    }
    return result;
  }

  // Creates the base path itself on the first write (a first backup to a new folder). Ancestors
  // may belong to someone else (a hosting provider's /remote.php/dav/...): refusals there are
  // ignored, and only the base collection itself must end up existing.
  Status EnsureBase() {
    if (base_ready_) return OkStatus();
    size_t pos = 1;
    while (pos <= base_path_.size()) {
      size_t slash = base_path_.find('/', pos);
      if (slash == std::string::npos) slash = base_path_.size();
      const bool last = slash == base_path_.size();
      HttpRequest req = Request("MKCOL", origin_ + UrlEncode(base_path_.substr(0, slash), true) + "/");
      CV_ASSIGN_OR_RETURN(HttpResponse r, http_.WithRetry(req));
      if (last && r.status != 201 && r.status != 405 && r.status != 200) return Failure(req, r);
      pos = slash + 1;
    }
    base_ready_ = true;
    return OkStatus();
  }

  // MKCOL each level of `dir` ("a/b/c" -> a/, a/b/, a/b/c/). 405 means it exists already.
  Status MakeCollections(const std::string& dir) CV_EXCLUDES(mu_) {
    CV_RETURN_IF_ERROR(EnsureBase());
    if (dir.empty()) return OkStatus();
    size_t pos = 0;
    for (;;) {
      const size_t slash = dir.find('/', pos);
      const std::string level = slash == std::string::npos ? dir : dir.substr(0, slash);
      bool known;
      {
        MutexLock lock(mu_);
        known = known_collections_.count(level) > 0;
      }
      if (!known) {
        HttpRequest req = Request("MKCOL", UrlOf(level) + "/");
        CV_ASSIGN_OR_RETURN(HttpResponse r, http_.WithRetry(req));
        if (r.status != 201 && r.status != 405 && r.status != 200) return Failure(req, r);
        MutexLock lock(mu_);
        known_collections_.insert(level);
      }
      if (slash == std::string::npos) return OkStatus();
      pos = slash + 1;
    }
  }

  Status Walk(const std::string& rel, std::string_view prefix, std::vector<storage::ObjectInfo>& out,
              int depth) {
    if (depth > 32) return Corrupted("the WebDAV tree under " + Describe() + " is nested too deeply");
    HttpRequest req = Request("PROPFIND", UrlOf(rel) + (rel.empty() ? "" : "/"));
    req.headers.push_back("Depth: 1");
    req.headers.push_back("Content-Type: application/xml; charset=utf-8");
    req.body = AsBytes(kPropfindBody);
    CV_ASSIGN_OR_RETURN(HttpResponse r, http_.WithRetry(req));
    if (r.status == 404) return OkStatus();  // nothing stored there yet
    if (r.status != 207) return Failure(req, r);
    CV_ASSIGN_OR_RETURN(XmlElement doc, ParseXml(AsChars(r.body)));
    if (doc.name != "multistatus") return Corrupted(DescribeRequest(req) + ": not a DAV multistatus");
    const std::string self = rel.empty() ? "" : rel + "/";
    for (const XmlElement* response : doc.Children("response")) {
      CV_ASSIGN_OR_RETURN(std::string name, NameFromHref(response->ChildText("href")));
      bool collection = false;
      uint64_t size = 0;
      bool ok_props = false;
      for (const XmlElement* propstat : response->Children("propstat")) {
        if (propstat->ChildText("status").find(" 200") == std::string::npos) continue;
        const XmlElement* prop = propstat->Child("prop");
        if (!prop) continue;
        ok_props = true;
        if (const XmlElement* type = prop->Child("resourcetype"); type && type->Child("collection")) {
          collection = true;
        }
        const std::string length = prop->ChildText("getcontentlength");
        if (!length.empty()) {
          try {
            size = std::stoull(length);
          } catch (...) {
            return Corrupted(DescribeRequest(req) + ": bad content length for " + name);
          }
        }
      }
      while (!name.empty() && name.back() == '/') name.pop_back();
      if (!ok_props || name + "/" == self || name.empty() || name == rel) continue;  // the collection itself
      // Only direct members: servers answering deeper than asked must not duplicate entries.
      if (!name.starts_with(self) || name.find('/', self.size()) != std::string::npos) continue;
      const std::string leaf = name.substr(self.size());
      if (leaf.empty() || leaf[0] == '.') continue;  // temp files of writes in flight
      if (collection) {
        const std::string as_dir = name + "/";
        if (as_dir.starts_with(prefix) || prefix.starts_with(as_dir)) {
          CV_RETURN_IF_ERROR(Walk(name, prefix, out, depth + 1));
        }
      } else if (name.starts_with(prefix) && storage::ValidateObjectName(name).ok()) {
        out.push_back({name, size});
      }
    }
    return OkStatus();
  }

  // An href is an absolute URL or an absolute path, percent-encoded; returns the object name
  // relative to the provider's base path.
  Result<std::string> NameFromHref(const std::string& href) const {
    std::string path = href;
    if (const size_t scheme = path.find("://"); scheme != std::string::npos) {
      const size_t slash = path.find('/', scheme + 3);
      path = slash == std::string::npos ? "/" : path.substr(slash);
    }
    path = UrlDecode(path);
    const std::string base = base_path_ + "/";
    if (path + "/" == base || path == base_path_) return std::string();
    if (!path.starts_with(base)) {
      return Corrupted("the WebDAV server listed " + path + ", which is outside " + Describe());
    }
    return path.substr(base.size());
  }

  std::string UrlOf(std::string_view name) const {
    return origin_ + UrlEncode(base_path_, true) + "/" + UrlEncode(name, true);
  }

  HttpRequest Request(std::string method, std::string url) const {
    HttpRequest req;
    req.method = std::move(method);
    req.url = std::move(url);
    if (!o_.user.empty()) req.userpwd = o_.user + ":" + std::string(AsChars(o_.password.view()));
    return req;
  }

  Status Failure(const HttpRequest& req, const HttpResponse& r) const {
    const std::string what = DescribeRequest(req) + " answered HTTP " + std::to_string(r.status);
    if (r.status == 401 || r.status == 403) {
      return PermissionDenied(what + "; check CHATVAULT_WEBDAV_USER and CHATVAULT_WEBDAV_PASSWORD");
    }
    if (r.status == 507) return IoError(what + " (the server is out of space)");
    if (IsRetryableStatus(r.status)) return Unavailable(what);
    return IoError(what);
  }

  WebDavOptions o_;
  HttpClient http_;
  std::string origin_;     // "http://host:port"
  std::string base_path_;  // "/dav/backups" (decoded, no trailing '/')
  std::atomic<bool> base_ready_{false};
  Mutex mu_;
  // Created already: saves a MKCOL per write.
  std::set<std::string> known_collections_ CV_GUARDED_BY(mu_);
};

}  // namespace

Result<WebDavOptions> WebDavOptionsFromLocation(std::string_view location) {
  std::string_view rest;
  std::string scheme;
  if (location.starts_with("webdav://")) {
    rest = location.substr(9);
    scheme = "http://";
  } else if (location.starts_with("webdavs://")) {
    rest = location.substr(10);
    scheme = "https://";
  } else {
    return InvalidArgument("a WebDAV location looks like webdavs://host/path or webdav://host/path");
  }
  WebDavOptions o;
  const size_t slash = rest.find('/');
  std::string authority(rest.substr(0, slash));
  std::string path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
  const size_t at = authority.rfind('@');
  std::string url_password;
  if (at != std::string::npos) {
    const std::string userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    const size_t colon = userinfo.find(':');
    o.user = UrlDecode(userinfo.substr(0, colon));
    if (colon != std::string::npos) url_password = UrlDecode(userinfo.substr(colon + 1));
  }
  if (authority.empty()) return InvalidArgument("the WebDAV location names no host");
  while (!path.empty() && path.back() == '/') path.pop_back();
  o.base_url = scheme + authority + path;
  if (o.user.empty()) {
    if (const char* u = std::getenv("CHATVAULT_WEBDAV_USER")) o.user = u;
  }
  if (const char* p = std::getenv("CHATVAULT_WEBDAV_PASSWORD"); p && url_password.empty()) {
    url_password = p;
  }
  o.password = crypto::Secret::FromBytes(AsBytes(url_password));
  crypto::Wipe({reinterpret_cast<uint8_t*>(url_password.data()), url_password.size()});
  return o;
}

std::unique_ptr<storage::Provider> OpenWebDavProvider(WebDavOptions options) {
  return std::make_unique<WebDavProvider>(std::move(options));
}

}  // namespace chatvault::cloud
