// rclone provider: object bytes go up through operations/uploadfile to a hidden temporary name
// and are published with operations/movefile, so readers never see a partial object (on
// backends without server-side move rclone copies then deletes, still publishing whole objects).
// Reads use rcd's object server (--rc-serve). Cloud drives have no conditional create, so
// PutIfAbsent checks with operations/stat first; two writers racing between the check and the
// move can both succeed, which chatvault tolerates because names are content addresses or
// unique per backup.
#include <algorithm>
#include <array>
#include <cstdlib>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "chatvault/cloud/http_client.h"
#include "chatvault/cloud/rclone_provider.h"
#include "chatvault/common/mutex.h"
#include "chatvault/crypto/random.h"
#include "chatvault/storage/local_provider.h"
#include "cloud/rclone_process.h"

namespace chatvault::cloud {
namespace {

using nlohmann::json;

class RcloneProvider : public storage::Provider {
 public:
  RcloneProvider(RcloneOptions o, std::unique_ptr<RcloneProcess> process)
      : o_(std::move(o)), process_(std::move(process)), http_(o_.retry) {
    api_ = "http://127.0.0.1:" + std::to_string(process_->port());
  }

  std::string Describe() const override { return "rclone:" + o_.remote; }

  Status PutIfAbsent(std::string_view name, ByteView data) override {
    CV_RETURN_IF_ERROR(storage::ValidateObjectName(name));
    // Writers of one name inside this process take turns, so the check-then-move cannot race
    // locally; across processes it can (see the top of this file).
    MutexLock lock(NameLock(name));
    CV_ASSIGN_OR_RETURN(bool exists, Exists(name));
    if (exists) return AlreadyExists("object " + std::string(name) + " exists");
    return Publish(name, data);
  }

  Status Put(std::string_view name, ByteView data) override {
    CV_RETURN_IF_ERROR(storage::ValidateObjectName(name));
    MutexLock lock(NameLock(name));
    return Publish(name, data);
  }

  Result<Bytes> Get(std::string_view name) override {
    CV_RETURN_IF_ERROR(storage::ValidateObjectName(name));
    HttpRequest req;
    req.url = api_ + "/" + UrlEncode("[" + o_.remote + "]", false) + "/" + UrlEncode(name, true);
    req.userpwd = process_->Credentials();
    CV_ASSIGN_OR_RETURN(HttpResponse r, http_.WithRetry(req));
    if (r.status == 404) return NotFound("object " + std::string(name) + " is not in " + Describe());
    if (r.status != 200) return Failure("reading " + std::string(name), r);
    return std::move(r.body);
  }

  Result<std::vector<storage::ObjectInfo>> List(std::string_view prefix) override {
    const size_t slash = prefix.find_last_of('/');
    const std::string dir = slash == std::string_view::npos ? "" : std::string(prefix.substr(0, slash));
    CV_ASSIGN_OR_RETURN(HttpResponse r,
                        Call("operations/list", {{"fs", o_.remote},
                                                 {"remote", dir},
                                                 {"opt", {{"recurse", true}, {"filesOnly", true}}}}));
    std::vector<storage::ObjectInfo> out;
    if (r.status == 404) return out;  // nothing stored there yet
    if (r.status != 200) return Failure("listing " + dir, r);
    json doc = json::parse(AsChars(r.body), nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object() || !doc.contains("list") || !doc["list"].is_array()) {
      return Corrupted("rclone answered a listing that is not JSON with a list");
    }
    for (const json& item : doc["list"]) {
      if (!item.is_object() || !item.contains("Path") || !item["Path"].is_string()) continue;
      if (item.value("IsDir", false)) continue;
      std::string name = item["Path"].get<std::string>();
      if (!name.starts_with(prefix) || !storage::ValidateObjectName(name).ok()) continue;
      const int64_t size = item.value("Size", int64_t{-1});
      if (size < 0) return Corrupted("rclone listed " + name + " without a size");
      out.push_back({std::move(name), static_cast<uint64_t>(size)});
    }
    std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
    return out;
  }

  Status Delete(std::string_view name) override {
    CV_RETURN_IF_ERROR(storage::ValidateObjectName(name));
    CV_ASSIGN_OR_RETURN(HttpResponse r, Call("operations/deletefile", {{"fs", o_.remote}, {"remote", name}}));
    if (r.status == 200 || r.status == 404) return OkStatus();
    return Failure("deleting " + std::string(name), r);
  }

 private:
  Mutex& NameLock(std::string_view name) {
    return name_locks_[std::hash<std::string_view>{}(name) % name_locks_.size()];
  }

  Result<bool> Exists(std::string_view name) {
    CV_ASSIGN_OR_RETURN(HttpResponse r, Call("operations/stat", {{"fs", o_.remote}, {"remote", name}}));
    if (r.status == 404) return false;
    if (r.status != 200) return Failure("checking " + std::string(name), r);
    json doc = json::parse(AsChars(r.body), nullptr, false);
    if (!doc.is_object()) return Corrupted("rclone answered operations/stat with something that is not JSON");
    return doc.contains("item") && !doc["item"].is_null();
  }

  Status Publish(std::string_view name, ByteView data) {
    const std::string object(name);
    const size_t slash = object.find_last_of('/');
    const std::string dir = slash == std::string::npos ? "" : object.substr(0, slash);
    const std::string tmp_leaf = ".tmp-" + HexEncode(crypto::RandomBytes(8));
    const std::string tmp = dir.empty() ? tmp_leaf : dir + "/" + tmp_leaf;

    HttpRequest up;
    up.method = "POST";
    up.url = api_ + "/operations/uploadfile?fs=" + UrlEncode(o_.remote, false) +
             "&remote=" + UrlEncode(dir, false);
    up.userpwd = process_->Credentials();
    up.body = data;
    up.form_file_field = "file0";
    up.form_file_name = tmp_leaf;
    CV_ASSIGN_OR_RETURN(HttpResponse ur, http_.WithRetry(up));
    if (ur.status != 200) return Failure("uploading " + object, ur);

    CV_ASSIGN_OR_RETURN(HttpResponse mr, Call("operations/movefile", {{"srcFs", o_.remote},
                                                                      {"srcRemote", tmp},
                                                                      {"dstFs", o_.remote},
                                                                      {"dstRemote", object}}));
    if (mr.status != 200) {
      Status s = Failure("publishing " + object, mr);
      (void)Call("operations/deletefile", {{"fs", o_.remote}, {"remote", tmp}});
      return s;
    }
    return OkStatus();
  }

  Result<HttpResponse> Call(const std::string& method, const json& input) {
    const std::string body = input.dump();
    HttpRequest req;
    req.method = "POST";
    req.url = api_ + "/" + method;
    req.userpwd = process_->Credentials();
    req.headers.push_back("Content-Type: application/json");
    req.body = AsBytes(body);
    req.send_body = true;
    return http_.WithRetry(req);
  }

  // rclone's JSON error ("error": "...") carries the backend's own words (quota, auth expired).
  Status Failure(const std::string& what, const HttpResponse& r) const {
    std::string detail;
    json doc = json::parse(AsChars(r.body), nullptr, false);
    if (doc.is_object() && doc.contains("error") && doc["error"].is_string()) detail = doc["error"];
    const std::string message = "rclone failed " + what + " in " + Describe() + " (HTTP " +
                                std::to_string(r.status) + (detail.empty() ? "" : ": " + detail) + ")";
    if (r.status == 401 || r.status == 403) return PermissionDenied(message);
    if (IsRetryableStatus(r.status)) return Unavailable(message);
    return IoError(message);
  }

  RcloneOptions o_;
  std::unique_ptr<RcloneProcess> process_;
  HttpClient http_;
  std::string api_;
  std::array<Mutex, 64> name_locks_;
};

}  // namespace

Result<RcloneOptions> RcloneOptionsFromLocation(std::string_view location) {
  if (!location.starts_with("rclone:")) {
    return InvalidArgument("an rclone location looks like rclone:remote:path");
  }
  RcloneOptions o;
  o.remote = std::string(location.substr(7));
  const size_t colon = o.remote.find(':');
  if (o.remote.empty() || colon == std::string::npos || colon == 0) {
    return InvalidArgument("'" + std::string(location) +
                           "' names no rclone remote; use rclone:remote:path (see `rclone listremotes`)");
  }
  if (const char* path = std::getenv("CHATVAULT_RCLONE"); path && *path) o.rclone_path = path;
  if (const char* config = std::getenv("RCLONE_CONFIG"); config && *config) o.config_path = config;
  return o;
}

Result<std::unique_ptr<storage::Provider>> OpenRcloneProvider(RcloneOptions options) {
  auto process = std::make_unique<RcloneProcess>();
  CV_RETURN_IF_ERROR(process->Start(options.rclone_path, options.config_path));
  return std::unique_ptr<storage::Provider>(
      std::make_unique<RcloneProvider>(std::move(options), std::move(process)));
}

}  // namespace chatvault::cloud
