// A program the test starts itself (not through a script), with its output in a file, so a
// test can watch it start, read what it said, signal it and collect its exit status. Killed by
// PID when the object goes, pass or fail.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace chatvault::testing {

class SpawnedProcess {
 public:
  // Runs argv[0] with `argv`, stdout and stderr appended to `log_path`.
  SpawnedProcess(const std::vector<std::string>& argv, std::string log_path)
      : log_path_(std::move(log_path)) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<std::string> copy = argv;
    std::vector<char*> args;
    for (std::string& a : copy) args.push_back(a.data());
    args.push_back(nullptr);
    if (::posix_spawn(&pid_, args[0], &actions, nullptr, args.data(), environ) != 0) pid_ = 0;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~SpawnedProcess() { Kill(); }
  SpawnedProcess(const SpawnedProcess&) = delete;
  SpawnedProcess& operator=(const SpawnedProcess&) = delete;

  pid_t pid() const { return pid_; }
  bool running() {
    if (pid_ <= 0 || exited_) return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      exit_status_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return false;
    }
    return true;
  }
  // Waits for the process to end; its exit status (128 + signal when killed), -1 on timeout.
  int Wait(std::chrono::seconds timeout = std::chrono::seconds(60)) {
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    while (running()) {
      if (std::chrono::steady_clock::now() > give_up) return -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return exit_status_;
  }
  void Signal(int signal) {
    if (running()) ::kill(pid_, signal);
  }
  void Kill() {
    if (!running()) return;
    ::kill(pid_, SIGTERM);
    if (Wait(std::chrono::seconds(10)) < 0) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
  }
  std::string Output() const {
    std::ifstream in(log_path_);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

 private:
  std::string log_path_;
  pid_t pid_ = 0;
  bool exited_ = false;
  int exit_status_ = -1;
};

// Waits for a file a process writes once it is ready (keyvaultd's --port-file); "" if the
// process ended first or `timeout` passed.
inline std::string WaitForFile(SpawnedProcess& process, const std::string& path,
                               std::chrono::seconds timeout = std::chrono::seconds(60)) {
  const auto give_up = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < give_up) {
    std::ifstream in(path);
    std::string line;
    if (std::getline(in, line) && !line.empty()) return line;
    if (!process.running()) return "";
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return "";
}

}  // namespace chatvault::testing
