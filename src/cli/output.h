// How a command's outcome reaches the user. A command computes a report (plain data); one place
// maps its Status to an exit code and prints either text or, with --json, one JSON object on
// stdout. A report type R comes with two functions found next to it:
//   nlohmann::json ToJson(const R&);   the fields after "ok": true
//   void PrintText(const R&);          the human text (stdout; warnings on stderr)
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "chatvault/common/status.h"
#include "cli/globals.h"

namespace chatvault::cli {

inline constexpr int kExitUsage = 1;  // the command line did not parse (CLI11)

// The exit code for a failure of kind `code`: stable for scripts, listed in docs/CLI.md.
int ExitCodeFor(Code code);

// The part every report shares.
struct Report {
  // Not OK when the command did its work with a caveat that scripts must see in the exit code
  // (such as files it had to skip); the report is still printed as a success.
  Code completion = Code::kOk;
};

// A failure as one sentence on stderr ("chatvault: wrong key: ..."), or with --json as
// {"ok":false,"error":{"code":"wrong key","message":"..."}} on stdout. Returns the exit code.
int PrintFailure(const Globals& globals, const Status& status);

// With --json, a command line that did not parse: {"ok":false,"error":{"code":"usage",...}}.
void PrintUsageFailure(const std::string& message);

// {"ok":true, ...fields} on stdout.
void PrintJson(const nlohmann::json& fields);

// Prints the report or the failure; returns the exit code.
template <typename R>
int Emit(const Globals& globals, const Result<R>& result) {
  if (!result.ok()) return PrintFailure(globals, result.status());
  if (globals.json) {
    PrintJson(ToJson(*result));
  } else {
    PrintText(*result);
  }
  return ExitCodeFor(result->completion);
}

}  // namespace chatvault::cli
