// nginx serving WebDAV behind HTTP basic auth (tools/cloud/start-webdav-server.sh), over the
// files of a temp dir of its own. Started again on the port it had (after a kill), it serves the
// same files there.
#pragma once

#include <string>
#include <utility>

#include "cloud/server_process.h"
#include "support/temp_dir.h"

namespace chatvault::testing {

struct WebDavServer {
  WebDavServer(std::string user, std::string password)
      : user(std::move(user)), password(std::move(password)) {}

  bool Start(int fixed_port = 0) {
    std::string cmd =
        CloudScript("start-webdav-server.sh") + " " + dir.Sub("dav") + " " + user + " " + password;
    if (fixed_port) cmd += " " + std::to_string(fixed_port);
    return process.Start(cmd);
  }
  // Where the served files are on disk.
  std::string DataDir() const { return dir.Sub("dav") + "/data"; }

  std::string user;
  std::string password;
  TempDir dir;
  ServerProcess process;
};

}  // namespace chatvault::testing
