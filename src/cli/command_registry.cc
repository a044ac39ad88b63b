#include "cli/command_registry.h"

#include <algorithm>
#include <iostream>
#include <utility>
#include <vector>

namespace chatvault::cli {
namespace {

std::vector<std::pair<int, Installer>>& Registry() {
  static std::vector<std::pair<int, Installer>> registry;
  return registry;
}

struct Variant {
  std::string command;
  std::function<bool()> selected;
  std::function<int()> run;
};

std::vector<Variant>& Variants() {
  static std::vector<Variant> variants;
  return variants;
}

}  // namespace

void AddVariant(const std::string& command, std::function<bool()> selected,
                std::function<int()> run) {
  Variants().push_back({command, std::move(selected), std::move(run)});
}

std::optional<int> RunVariant(const std::string& command) {
  for (const Variant& v : Variants()) {
    if (v.command == command && v.selected()) return v.run();
  }
  return std::nullopt;
}

bool RegisterCommands(int order, Installer installer) {
  Registry().emplace_back(order, std::move(installer));
  return true;
}

void InstallCommands(CLI::App& app, Globals& globals) {
  auto& registry = Registry();
  std::stable_sort(registry.begin(), registry.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [order, install] : registry) install(app, globals);
}

int ExitCodeFor(Code code) {
  switch (code) {
    case Code::kOk: return 0;
    case Code::kInvalidArgument: return 2;
    case Code::kNotFound: return 3;
    case Code::kWrongKey: return 4;
    case Code::kCorrupted:
    case Code::kTruncated: return 5;
    case Code::kPermissionDenied: return 6;
    case Code::kLockedOut: return 7;
    case Code::kUnavailable: return 8;
    case Code::kIo: return 9;
    case Code::kForeignBackup: return 11;
    case Code::kSuspiciousData: return 12;
    case Code::kRolledBack: return 13;
    case Code::kNoSpace: return 14;
    default: return 10;
  }
}

int ReportError(const Globals& globals, const Status& status) {
  if (globals.json) {
    nlohmann::json out = {{"ok", false},
                          {"error", {{"code", std::string(CodeName(status.code()))},
                                     {"message", status.message()}}}};
    std::cout << out.dump() << std::endl;
  } else {
    std::cerr << "chatvault: " << status.ToString() << std::endl;
  }
  return ExitCodeFor(status.code());
}

void PrintJson(const nlohmann::json& fields) {
  nlohmann::json out = {{"ok", true}};
  out.update(fields);
  std::cout << out.dump() << std::endl;
}

}  // namespace chatvault::cli
