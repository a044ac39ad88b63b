// A private `rclone rcd` for one provider: loopback only, a port the kernel picks, random
// credentials passed through the environment (not argv, which other users can read in ps).
#pragma once

#include <sys/types.h>

#include <string>

#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"

namespace chatvault::cloud {

class RcloneProcess {
 public:
  RcloneProcess() = default;
  ~RcloneProcess();  // stops rclone (SIGTERM, then SIGKILL) and removes its log
  RcloneProcess(const RcloneProcess&) = delete;
  RcloneProcess& operator=(const RcloneProcess&) = delete;

  // Starts rclone and waits until it serves its API. Unavailable if it cannot.
  Status Start(const std::string& rclone_path, const std::string& config_path);

  int port() const { return port_; }
  // "user:password" for the API (basic auth).
  std::string Credentials() const;

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string log_path_;
  std::string user_;
  crypto::Secret password_;
};

}  // namespace chatvault::cloud
