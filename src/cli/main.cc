#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <string>

#include "cli/commands.h"

namespace chatvault::cli {
namespace {

std::string DefaultHome() {
  if (const char* env = std::getenv("CHATVAULT_HOME"); env && *env) return env;
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::string(home) + "/.local/share/chatvault";
  }
  return "";
}

// The global flags work before or after the command: every subcommand inherits fallthrough,
// so a flag the command does not know is looked up in its parents.
void AddGlobalFlags(CLI::App& app, Globals& globals) {
  app.fallthrough();
  app.add_flag("--json", globals.json,
               "Print one JSON object on stdout instead of text (for scripts)");
  app.add_flag("-q,--quiet", globals.quiet, "No progress output");
  app.add_option("--home", globals.home,
                 "This device's chatvault state directory (default $CHATVAULT_HOME or "
                 "~/.local/share/chatvault)");
}

void AddCommands(CLI::App& app, CommandRunner& runner) {
  AddInitCommand(app, runner);
  AddBackupCommand(app, runner);
  AddRestoreCommand(app, runner);
  AddVerifyCommand(app, runner);
  AddBackupsCommand(app, runner);
  AddPasswordCommand(app, runner);
  AddDisableCommand(app, runner);
  AddStatusCommand(app, runner);
  AddWhatsAppCommand(app, runner);
  for (CLI::App* command : app.get_subcommands({})) {
    command->footer("Global flags, before or after the command: --json, -q/--quiet, --home DIR.");
  }
}

// --help and --version exit 0; a command line that does not parse exits 1, with --json as the
// one JSON object a script expects.
int ReportParseError(CLI::App& app, const Globals& globals, const CLI::ParseError& e) {
  if (!globals.json || e.get_exit_code() == 0) return app.exit(e) == 0 ? 0 : kExitUsage;
  PrintUsageFailure(e.what());
  return kExitUsage;
}

}  // namespace
}  // namespace chatvault::cli

int main(int argc, char** argv) {
  // A write to a connection the other side closed must come back as an error the code handles
  // (and retries), not kill the process silently.
  std::signal(SIGPIPE, SIG_IGN);
  using namespace chatvault::cli;
  Globals globals;
  globals.home = DefaultHome();
  CLI::App app{
      "chatvault: end-to-end encrypted backups of a chat history (msgstore.db and media).\n"
      "Everything is encrypted on this device with a 256-bit backup key before it is stored;\n"
      "keep that key as a 64-digit key or behind a password in the Backup Key Vault.",
      "chatvault"};
  app.set_version_flag("--version", "chatvault 0.1.0");
  AddGlobalFlags(app, globals);
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 ok, 1 usage, 2 invalid argument, 3 not found, 4 wrong key, 5 corrupted or\n"
      "truncated data, 6 permission denied, 7 locked out, 8 service unavailable, 9 i/o error,\n"
      "10 other, 11 the location holds another key's backup, 12 the new backup looks like lost\n"
      "data (not made current), 13 the location was rolled back, 14 not enough space, 15 backup\n"
      "completed with skipped files (docs/CLI.md).\n"
      "Run 'chatvault <command> --help' for a command's options.");
  CommandRunner runner(globals);
  AddCommands(app, runner);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return ReportParseError(app, globals, e);
  }
  return runner.exit_code();
}
