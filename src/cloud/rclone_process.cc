#include "cloud/rclone_process.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "chatvault/crypto/random.h"

extern char** environ;

namespace chatvault::cloud {

RcloneProcess::~RcloneProcess() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < 100; ++i) {
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
    }
  }
  if (!log_path_.empty()) ::unlink(log_path_.c_str());
}

std::string RcloneProcess::Credentials() const {
  return user_ + ":" + std::string(AsChars(password_.view()));
}

Status RcloneProcess::Start(const std::string& rclone_path, const std::string& config_path) {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/chatvault-rclone-XXXXXX";
  const int log_fd = ::mkstemp(templ.data());
  if (log_fd < 0) return IoError("cannot create a log file for rclone in " + templ);
  log_path_ = templ;

  user_ = "chatvault";
  const std::string pass_hex = HexEncode(crypto::RandomBytes(16));
  password_ = crypto::Secret::FromBytes(AsBytes(pass_hex));

  std::vector<std::string> args = {rclone_path, "rcd", "--rc-addr", "127.0.0.1:0", "--rc-serve"};
  if (!config_path.empty()) {
    args.push_back("--config");
    args.push_back(config_path);
  }
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    const std::string_view v(*e);
    if (v.starts_with("RCLONE_RC_USER=") || v.starts_with("RCLONE_RC_PASS=")) continue;
    env_strings.emplace_back(v);
  }
  env_strings.push_back("RCLONE_RC_USER=" + user_);
  env_strings.push_back("RCLONE_RC_PASS=" + pass_hex);
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_strings) envp.push_back(e.data());
  envp.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, log_fd, 1);
  posix_spawn_file_actions_adddup2(&actions, log_fd, 2);
  const int rc = ::posix_spawnp(&pid_, rclone_path.c_str(), &actions, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  ::close(log_fd);
  for (auto& e : env_strings) crypto::Wipe({reinterpret_cast<uint8_t*>(e.data()), e.size()});
  if (rc != 0) {
    pid_ = -1;
    return Unavailable("cannot run " + rclone_path + " (is rclone installed? set CHATVAULT_RCLONE to its path)");
  }

  // rclone prints "Serving remote control on http://127.0.0.1:PORT/" once it listens.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(log_path_);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::string log = ss.str();
    const std::string marker = "Serving remote control on http://127.0.0.1:";
    const size_t at = log.find(marker);
    if (at != std::string::npos) {
      port_ = std::atoi(log.c_str() + at + marker.size());
      if (port_ > 0) return OkStatus();
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      std::string last = log.substr(log.size() > 300 ? log.size() - 300 : 0);
      while (!last.empty() && last.back() == '\n') last.pop_back();
      return Unavailable("rclone stopped right after starting: " + last);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return Unavailable("rclone did not start its API within 30 seconds");
}

}  // namespace chatvault::cloud
