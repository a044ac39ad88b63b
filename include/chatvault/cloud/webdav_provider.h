// WebDAV servers (Nextcloud, ownCloud, Apache mod_dav, nginx dav, many NAS boxes).
// Location: webdav://[user@]host[:port]/path (plain HTTP, for loopback or a trusted LAN) or
// webdavs://[user@]host[:port]/path (HTTPS). The password comes from CHATVAULT_WEBDAV_PASSWORD
// (user from CHATVAULT_WEBDAV_USER unless the URL names one); a password inside the URL is
// accepted but discouraged because shells keep history.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "chatvault/cloud/retry.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/storage/provider.h"

namespace chatvault::cloud {

struct WebDavOptions {
  std::string base_url;  // "http://host:port/path" with no credentials and no trailing '/'
  std::string user;
  crypto::Secret password;
  RetryPolicy retry;
};

Result<WebDavOptions> WebDavOptionsFromLocation(std::string_view location);

std::unique_ptr<storage::Provider> OpenWebDavProvider(WebDavOptions options);

}  // namespace chatvault::cloud
