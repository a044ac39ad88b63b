#include "cli/output.h"

#include <iostream>
#include <string>

namespace chatvault::cli {
namespace {

struct ExitCode {
  Code code;
  int exit;
};

// One row per failure kind that scripts can tell apart; every other code exits 10 ("other").
constexpr ExitCode kExitCodes[] = {
    {Code::kOk, 0},
    {Code::kInvalidArgument, 2},
    {Code::kNotFound, 3},
    {Code::kWrongKey, 4},
    {Code::kCorrupted, 5},
    {Code::kTruncated, 5},
    {Code::kPermissionDenied, 6},
    {Code::kLockedOut, 7},
    {Code::kUnavailable, 8},
    {Code::kIo, 9},
    {Code::kForeignBackup, 11},
    {Code::kSuspiciousData, 12},
    {Code::kRolledBack, 13},
    {Code::kNoSpace, 14},
};
constexpr int kExitOther = 10;
constexpr int kExitCompletedWithSkippedFiles = 15;

void PrintJsonFailure(const std::string& code, const std::string& message) {
  nlohmann::json out = {{"ok", false}, {"error", {{"code", code}, {"message", message}}}};
  std::cout << out.dump() << std::endl;
}

}  // namespace

int ExitCodeFor(Code code) {
  for (const ExitCode& row : kExitCodes) {
    if (row.code == code) return row.exit;
  }
  return kExitOther;
}

int ExitCodeFor(Completion completion) {
  switch (completion) {
    case Completion::kComplete: return 0;
    case Completion::kWithSkippedFiles: return kExitCompletedWithSkippedFiles;
  }
  return kExitOther;
}

int PrintFailure(const Globals& globals, const Status& status) {
  if (globals.json) {
    PrintJsonFailure(std::string(CodeName(status.code())), status.message());
  } else {
    std::cerr << "chatvault: " << status.ToString() << std::endl;
  }
  return ExitCodeFor(status.code());
}

void PrintWarnings(const std::vector<std::string>& warnings) {
  for (const std::string& w : warnings) std::cerr << "WARNING: " << w << "\n";
}

void PrintUsageFailure(const std::string& message) { PrintJsonFailure("usage", message); }

void PrintJson(const nlohmann::json& fields) {
  nlohmann::json out = {{"ok", true}};
  out.update(fields);
  std::cout << out.dump() << std::endl;
}

}  // namespace chatvault::cli
