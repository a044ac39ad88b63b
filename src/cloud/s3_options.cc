// Where S3 settings come from: the location names bucket and prefix; everything else follows the
// conventions of the AWS command line tools so existing setups work unchanged.
#include <cstdlib>
#include <fstream>
#include <map>
#include <string>

#include "chatvault/cloud/s3_provider.h"

namespace chatvault::cloud {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

std::string Trim(std::string s) {
  const char* ws = " \t\r\n";
  s.erase(0, s.find_first_not_of(ws));
  s.erase(s.find_last_not_of(ws) + 1);
  return s;
}

// Reads one [profile] section of an AWS-style INI file.
std::map<std::string, std::string> ReadProfile(const std::string& path, const std::string& profile) {
  std::map<std::string, std::string> out;
  std::ifstream in(path);
  std::string line;
  bool inside = false;
  while (std::getline(in, line)) {
    line = Trim(line);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    if (line.front() == '[' && line.back() == ']') {
      std::string name = Trim(line.substr(1, line.size() - 2));
      if (name.starts_with("profile ")) name = Trim(name.substr(8));
      inside = name == profile;
      continue;
    }
    const size_t eq = line.find('=');
    if (inside && eq != std::string::npos) out[Trim(line.substr(0, eq))] = Trim(line.substr(eq + 1));
  }
  return out;
}

crypto::Secret SecretOf(std::string& s) {
  crypto::Secret out = crypto::Secret::FromBytes(AsBytes(s));
  crypto::Wipe({reinterpret_cast<uint8_t*>(s.data()), s.size()});
  s.clear();
  return out;
}

}  // namespace

Result<S3Options> S3OptionsFromLocation(std::string_view location) {
  if (!location.starts_with("s3://")) {
    return InvalidArgument("an S3 location looks like s3://bucket/prefix");
  }
  std::string_view rest = location.substr(5);
  const size_t slash = rest.find('/');
  S3Options o;
  o.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) o.prefix = std::string(rest.substr(slash + 1));
  while (!o.prefix.empty() && o.prefix.back() == '/') o.prefix.pop_back();
  if (o.bucket.empty()) return InvalidArgument("the S3 location " + std::string(location) + " names no bucket");
  for (char c : o.bucket) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.')) {
      return InvalidArgument("'" + o.bucket + "' is not a valid S3 bucket name (lower-case letters, digits, '-', '.')");
    }
  }

  const std::string profile = Env("AWS_PROFILE").empty() ? "default" : Env("AWS_PROFILE");
  std::string home = Env("HOME");
  std::string creds_file = Env("AWS_SHARED_CREDENTIALS_FILE");
  if (creds_file.empty() && !home.empty()) creds_file = home + "/.aws/credentials";
  std::string config_file = Env("AWS_CONFIG_FILE");
  if (config_file.empty() && !home.empty()) config_file = home + "/.aws/config";

  std::string key_id = Env("AWS_ACCESS_KEY_ID");
  std::string secret = Env("AWS_SECRET_ACCESS_KEY");
  std::string token = Env("AWS_SESSION_TOKEN");
  if (key_id.empty() && !creds_file.empty()) {
    auto p = ReadProfile(creds_file, profile);
    key_id = p["aws_access_key_id"];
    secret = p["aws_secret_access_key"];
    token = p["aws_session_token"];
  }
  if (key_id.empty() || secret.empty()) {
    return InvalidArgument(
        "no S3 credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or add them to "
        "~/.aws/credentials");
  }
  o.access_key_id = key_id;
  o.secret_access_key = SecretOf(secret);
  if (!token.empty()) o.session_token = SecretOf(token);

  std::string region = Env("AWS_REGION");
  if (region.empty()) region = Env("AWS_DEFAULT_REGION");
  std::string endpoint = Env("AWS_ENDPOINT_URL_S3");
  if (endpoint.empty()) endpoint = Env("AWS_ENDPOINT_URL");
  if ((region.empty() || endpoint.empty()) && !config_file.empty()) {
    auto p = ReadProfile(config_file, profile);
    if (region.empty()) region = p["region"];
    if (endpoint.empty()) endpoint = p["endpoint_url"];
  }
  if (!region.empty()) o.region = region;
  if (endpoint.empty()) {
    o.endpoint = "https://s3." + o.region + ".amazonaws.com";
    o.style = S3AddressingStyle::kVirtual;
  } else {
    while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
    if (!endpoint.starts_with("http://") && !endpoint.starts_with("https://")) {
      return InvalidArgument("AWS_ENDPOINT_URL must start with http:// or https://");
    }
    o.endpoint = endpoint;
    o.style = S3AddressingStyle::kPath;  // what MinIO, Ceph and most self-hosted stores expect
  }
  const std::string style = Env("CHATVAULT_S3_ADDRESSING");
  if (style == "virtual") o.style = S3AddressingStyle::kVirtual;
  if (style == "path") o.style = S3AddressingStyle::kPath;
  if (!style.empty() && style != "virtual" && style != "path") {
    return InvalidArgument("CHATVAULT_S3_ADDRESSING must be 'path' or 'virtual'");
  }
  return o;
}

}  // namespace chatvault::cloud
