// Runs the real chatvault binary with a private home directory and captures its output.
#pragma once

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "support/file_access.h"
#include "support/temp_dir.h"

namespace chatvault::testing {

struct CliResult {
  int rc = -1;
  std::string out;
  std::string err;
  nlohmann::json Json() const { return nlohmann::json::parse(out, nullptr, false); }
};

inline std::string ChatvaultBinary() {
  return std::string(CHATVAULT_BINARY_DIR) + "/src/cli/chatvault";
}

inline std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class Cli {
 public:
  // `home_name`: a second Cli with another name is another device.
  explicit Cli(const TempDir& dir, const std::string& home_name = "home")
      : dir_(dir), home_(dir.Sub(home_name)) {}
  const std::string& home() const { return home_; }
  // Runs chatvault so that file modes bind it even when the tests run as root.
  void set_without_file_access_override(bool on) { without_override_ = on; }
  std::string key_file() const { return home_ + "/backup.key"; }

  // Starts chatvault with `--home HOME args` (just `args` when `!with_home`); stdin from
  // `stdin_text`. Returns the child's pid.
  pid_t Start(const std::vector<std::string>& args,
              const std::map<std::string, std::string>& env = {},
              const std::string& stdin_text = "", bool with_home = true) {
    const std::string in_path = dir_.Sub("cli.stdin");
    std::ofstream(in_path) << stdin_text;
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int in = ::open(in_path.c_str(), O_RDONLY);
      const int out = ::open(dir_.Sub("cli.stdout").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      const int err = ::open(dir_.Sub("cli.stderr").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(err, 2);
      for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
      if (without_override_) DropFileAccessOverrideForExec();
      std::vector<std::string> full = {ChatvaultBinary()};
      if (with_home) full.insert(full.end(), {"--home", home_});
      full.insert(full.end(), args.begin(), args.end());
      std::vector<char*> argv;
      for (auto& a : full) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    return pid;
  }

  CliResult Wait(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    CliResult r;
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    r.out = Slurp(dir_.Sub("cli.stdout"));
    r.err = Slurp(dir_.Sub("cli.stderr"));
    return r;
  }

  CliResult Run(const std::vector<std::string>& args,
                const std::map<std::string, std::string>& env = {},
                const std::string& stdin_text = "") {
    return Wait(Start(args, env, stdin_text));
  }

  // Runs chatvault on a pseudo-terminal (util-linux `script`), with `typed` as what the user
  // types; stdout and stderr both land in `out` (the terminal merges them). rc -1 when script(1)
  // is missing (see HasTerminalRunner).
  CliResult RunOnTerminal(const std::vector<std::string>& args, const std::string& typed,
                          const std::map<std::string, std::string>& env = {}) {
    std::string command;
    for (const auto& [k, v] : env) command += k + "='" + v + "' ";
    command += "'" + ChatvaultBinary() + "' --home '" + home_ + "'";
    for (const auto& a : args) command += " '" + a + "'";
    std::ofstream(dir_.Sub("typed")) << typed;
    const std::string shell = "script -qec \"" + command + "\" /dev/null < '" + dir_.Sub("typed") +
                              "' > '" + dir_.Sub("terminal.out") + "' 2>&1";
    const int status = std::system(shell.c_str());
    CliResult r;
    r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = Slurp(dir_.Sub("terminal.out"));
    return r;
  }
  static bool HasTerminalRunner() { return std::system("command -v script > /dev/null") == 0; }

  // Exactly `args`: the test places --home itself (or leaves it out).
  CliResult RunWithoutHome(const std::vector<std::string>& args) {
    return Wait(Start(args, {}, "", /*with_home=*/false));
  }

 private:
  const TempDir& dir_;
  std::string home_;
  bool without_override_ = false;
};

}  // namespace chatvault::testing
