// Test servers started by the project's scripts in tools/cloud, stopped by PID when the test
// ends (pass or fail). A start script prints "<pid> <port>" once its server answers.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>

namespace chatvault::testing {

class ServerProcess {
 public:
  ServerProcess() = default;
  ~ServerProcess() { Stop(); }
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  // Runs `command` (a tools/cloud start script with its arguments) and records pid and port.
  bool Start(const std::string& command) {
    FILE* out = ::popen(command.c_str(), "r");
    if (!out) return false;
    char line[128] = {0};
    const bool got = std::fgets(line, sizeof line, out) != nullptr;
    const int rc = ::pclose(out);
    if (!got || rc != 0) return false;
    return std::sscanf(line, "%d %d", &pid_, &port_) == 2 && pid_ > 0 && port_ > 0;
  }

  // SIGTERM, then SIGKILL if it lingers; waits until the process is gone.
  void Stop(int signal = SIGTERM) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (::kill(pid_, 0) == 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (::kill(pid_, 0) == 0) ::kill(pid_, SIGKILL);
    while (::kill(pid_, 0) == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    pid_ = -1;
  }

  int port() const { return port_; }
  int pid() const { return pid_; }

 private:
  int pid_ = -1;
  int port_ = 0;
};

inline std::string CloudScript(const std::string& name) {
  return std::string(CHATVAULT_SOURCE_DIR) + "/tools/cloud/" + name;
}

}  // namespace chatvault::testing
