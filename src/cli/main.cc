#include <CLI/CLI.hpp>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <string>

#include "cli/command_registry.h"

int main(int argc, char** argv) {
  // A write to a connection the other side closed must come back as an error the code handles
  // (and retries), not kill the process silently.
  std::signal(SIGPIPE, SIG_IGN);
  chatvault::cli::Globals globals;
  CLI::App app{
      "chatvault: end-to-end encrypted backups of a chat history (msgstore.db and media).\n"
      "Everything is encrypted on this device with a 256-bit backup key before it is stored;\n"
      "keep that key as a 64-digit key or behind a password in the Backup Key Vault.",
      "chatvault"};
  app.set_version_flag("--version", "chatvault 0.1.0");
  app.add_flag("--json", globals.json, "Print one JSON object on stdout instead of text (for scripts)");
  app.add_flag("-q,--quiet", globals.quiet, "No progress output");
  if (const char* env = std::getenv("CHATVAULT_HOME"); env && *env) {
    globals.home = env;
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    globals.home = std::string(home) + "/.local/share/chatvault";
  }
  app.add_option("--home", globals.home,
                 "This device's chatvault state directory (default $CHATVAULT_HOME or "
                 "~/.local/share/chatvault)");
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 ok, 1 usage, 2 invalid argument, 3 not found, 4 wrong key, 5 corrupted or\n"
      "truncated data, 6 permission denied, 7 locked out, 8 service unavailable, 9 i/o error,\n"
      "10 other, 11 the location holds another key's backup, 12 the new backup looks like lost\n"
      "data (not made current), 13 the location was rolled back, 14 not enough space, 15 backup\n"
      "completed with skipped files.\nRun 'chatvault <command> --help' for a command's options.");
  chatvault::cli::InstallCommands(app, globals);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 1;
  }
  return globals.exit_code;
}
