// How a command's outcome reaches the user. A command computes a report (plain data); one place
// maps its Status to an exit code and prints either text or, with --json, one JSON object on
// stdout. A report type R comes with two functions found next to it:
//   nlohmann::json ToJson(const R&);   the fields after "ok": true
//   void PrintText(const R&);          the human text (stdout; warnings on stderr)
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chatvault/common/status.h"
#include "cli/globals.h"

namespace chatvault::cli {

inline constexpr int kExitUsage = 1;  // the command line did not parse (CLI11)

// How a command that did its work ended, when scripts must see a caveat in the exit code.
enum class Completion {
  kComplete,
  kWithSkippedFiles,  // a backup that left out files it could not read
};

// The exit code for a failure of kind `code`, or for a completion: stable for scripts, listed in
// docs/CLI.md.
int ExitCodeFor(Code code);
int ExitCodeFor(Completion completion);

// The part every report shares.
struct Report {
  Completion completion = Completion::kComplete;
  // Things the user must know although the command succeeded (a location that looks rolled
  // back, a vault that could not be told about a backup): "WARNING: ..." lines on stderr. A
  // report whose JSON carries them says so in its ToJson.
  std::vector<std::string> warnings;
};

// A failure as one sentence on stderr ("chatvault: wrong key: ..."), or with --json as
// {"ok":false,"error":{"code":"wrong key","message":"..."}} on stdout. Returns the exit code.
int PrintFailure(const Globals& globals, const Status& status);

// With --json, a command line that did not parse: {"ok":false,"error":{"code":"usage",...}}.
void PrintUsageFailure(const std::string& message);

// "WARNING: ..." on stderr, one line each.
void PrintWarnings(const std::vector<std::string>& warnings);

// {"ok":true, ...fields} on stdout.
void PrintJson(const nlohmann::json& fields);

// Prints the report or the failure; returns the exit code.
template <typename R>
int Emit(const Globals& globals, const Result<R>& result) {
  if (!result.ok()) return PrintFailure(globals, result.status());
  if (globals.json) {
    PrintJson(ToJson(*result));
  } else {
    PrintWarnings(result->warnings);
    PrintText(*result);
  }
  return ExitCodeFor(result->completion);
}

}  // namespace chatvault::cli
