// Runs a real keyvaultd for a test or benchmark through tools/vault/start-keyvaultd.sh (SoftHSM2 token, TLS
// certificate and SQLite store in a temp dir), and stops it by PID when the test ends, pass or
// fail.
#pragma once

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>

#include "support/temp_dir.h"

namespace chatvault::testing {

inline std::string RunCommand(const std::string& cmd, int* exit_code = nullptr) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = ::pclose(p);
  if (exit_code) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

class KeyvaultdProcess {
 public:
  // Small Argon2id parameters keep tests fast; clients must then allow weak KSF parameters.
  static constexpr const char* kTestFlags = "--ksf-memory-kib 64 --ksf-iterations 1";

  explicit KeyvaultdProcess(std::string extra_flags = kTestFlags)
      : flags_(std::move(extra_flags)) {}
  ~KeyvaultdProcess() { Stop(); }

  // Starts (or restarts on the same state). Returns "" on success, else what went wrong, so
  // tests write ASSERT_EQ(vault.Start(), "").
  std::string Start() {
    int rc = 0;
    url_ = RunCommand(Script("start-keyvaultd.sh") + " " + Binary() + " " + dir_.Sub("vault") + " " +
                          flags_,
                      &rc);
    if (rc != 0 || !url_.starts_with("https://127.0.0.1:")) return "keyvaultd did not start: " + url_;
    return "";
  }
  void Stop(bool kill9 = false) {
    RunCommand(Script("stop-keyvaultd.sh") + " " + dir_.Sub("vault") + (kill9 ? " --kill" : ""));
  }

  const std::string& url() const { return url_; }
  std::string ca_file() const { return dir_.Sub("vault/tls/cert.pem"); }
  std::string dir() const { return dir_.Sub("vault"); }
  int port() const { return std::atoi(ReadLine(dir_.Sub("vault/port")).c_str()); }
  int pid() const { return std::atoi(ReadLine(dir_.Sub("vault/pid")).c_str()); }
  // What GET /metrics wants after "Authorization: Bearer " (start-keyvaultd.sh makes it).
  std::string metrics_token() const { return ReadLine(dir_.Sub("vault/metrics-token")); }

  // `key_id` empty: the keys file's first key.
  std::string Token(const std::string& account, int ttl = 3600,
                    const std::string& key_id = "") const {
    int rc = 0;
    std::string token =
        RunCommand(Binary() + " issue-token --token-secret-file " + dir_.Sub("vault/token-secret") +
                       " --account " + account + " --ttl " + std::to_string(ttl) +
                       (key_id.empty() ? "" : " --key-id " + key_id) + " 2>&1",
                   &rc);
    return rc == 0 ? token : "issue-token failed: " + token;
  }

  // Runs the keyvaultd binary with `args` (stderr too) and this vault's HSM configuration: the
  // exit code and what it wrote.
  std::pair<int, std::string> Run(const std::string& args) const {
    int rc = 0;
    std::string out = RunCommand("SOFTHSM2_CONF=" + dir() + "/hsm/softhsm2.conf timeout 120 " +
                                     Binary() + " " + args + " 2>&1",
                                 &rc);
    return {rc, out};
  }
  // The flags naming this vault's HSM token.
  std::string HsmFlags() const {
    return "--pkcs11-module " + ReadLine(dir() + "/hsm/module") + " --hsm-pin-file " + dir() +
           "/hsm/pin";
  }
  // Its store, as --store names it.
  std::string Store() const { return "sqlite:" + dir() + "/records.db"; }

  // Sends `signal` to keyvaultd (SIGHUP: reload).
  bool Signal(int signal) const { return pid() > 0 && ::kill(pid(), signal) == 0; }

  // Waits until keyvaultd's log holds `needle` at least `count` times.
  bool WaitForLog(const std::string& needle, int count = 1,
                  std::chrono::seconds timeout = std::chrono::seconds(30)) const {
    const auto give_up = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < give_up) {
      const std::string log = Log();
      int found = 0;
      for (size_t at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) {
        ++found;
      }
      if (found >= count) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }

  std::string Log() const {
    std::ifstream in(dir_.Sub("vault/keyvaultd.log"));
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }

  static std::string Binary() { return std::string(CHATVAULT_BINARY_DIR) + "/src/vault/keyvaultd"; }

 private:
  static std::string ReadLine(const std::string& path) {
    std::ifstream in(path);
    std::string line;
    std::getline(in, line);
    return line;
  }

  static std::string Script(const char* name) {
    return std::string(CHATVAULT_SOURCE_DIR) + "/tools/vault/" + name;
  }
  TempDir dir_;
  std::string flags_;
  std::string url_;
};

}  // namespace chatvault::testing
