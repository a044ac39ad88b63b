// Plugs the cloud providers into storage::OpenProvider, so every command that takes a backup
// location accepts s3://bucket/prefix, webdav(s)://host/path and rclone:remote:path.
#include "chatvault/cloud/rclone_provider.h"
#include "chatvault/cloud/s3_provider.h"
#include "chatvault/cloud/webdav_provider.h"
#include "chatvault/storage/provider.h"

namespace chatvault::cli {
namespace {

bool RegisterCloudSchemes() {
  storage::RegisterScheme("s3", [](std::string_view location) -> Result<std::unique_ptr<storage::Provider>> {
    CV_ASSIGN_OR_RETURN(cloud::S3Options options, cloud::S3OptionsFromLocation(location));
    return cloud::OpenS3Provider(std::move(options));
  });
  auto webdav = [](std::string_view location) -> Result<std::unique_ptr<storage::Provider>> {
    CV_ASSIGN_OR_RETURN(cloud::WebDavOptions options, cloud::WebDavOptionsFromLocation(location));
    return cloud::OpenWebDavProvider(std::move(options));
  };
  storage::RegisterScheme("webdav", webdav);
  storage::RegisterScheme("webdavs", webdav);
  storage::RegisterScheme("rclone", [](std::string_view location) -> Result<std::unique_ptr<storage::Provider>> {
    CV_ASSIGN_OR_RETURN(cloud::RcloneOptions options, cloud::RcloneOptionsFromLocation(location));
    return cloud::OpenRcloneProvider(std::move(options));
  });
  return true;
}

[[maybe_unused]] const bool kRegistered = RegisterCloudSchemes();

}  // namespace
}  // namespace chatvault::cli
