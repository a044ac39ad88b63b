// Commands of the chatvault CLI register themselves from their own files:
//
//   static const bool kRegistered = chatvault::cli::RegisterCommands(20, [](CLI::App& app,
//       chatvault::cli::Globals& g) { ... app.add_subcommand("backup", "...") ... });
//
// `order` sorts the commands in --help (lower first).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "chatvault/common/status.h"

namespace chatvault::cli {

struct Globals {
  bool json = false;   // one JSON object on stdout instead of human text
  bool quiet = false;  // no progress output
  // This device's chatvault state (config, key file when kept locally, cache):
  // --home, else $CHATVAULT_HOME, else $HOME/.local/share/chatvault.
  std::string home;
  int exit_code = 0;   // set by the command that ran
};

using Installer = std::function<void(CLI::App& app, Globals& globals)>;
bool RegisterCommands(int order, Installer installer);
void InstallCommands(CLI::App& app, Globals& globals);

// Another file can give an existing command a variant selected by one of its flags
// (`init --password` next to `init --key`). The command's own callback asks RunVariant first
// and does its usual work only when no variant was selected.
void AddVariant(const std::string& command, std::function<bool()> selected,
                std::function<int()> run);
// The exit code of the selected variant of `command`, or nullopt when none is selected.
std::optional<int> RunVariant(const std::string& command);

// Exit codes, stable for scripts: 0 ok, 1 usage, and one per failure kind (see --help).
int ExitCodeFor(Code code);
// A backup that completed but had to leave out files it could not read.
inline constexpr int kExitCompletedWithSkippedFiles = 15;

// Reports a failure as one clear sentence on stderr ("chatvault: wrong key: ..."), or as
// {"ok":false,"error":{"code":"wrong key","message":"..."}} on stdout with --json.
// Returns the exit code to use.
int ReportError(const Globals& globals, const Status& status);

// Prints a successful --json result ({"ok":true, ...fields}).
void PrintJson(const nlohmann::json& fields);

}  // namespace chatvault::cli
