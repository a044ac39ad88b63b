// The chatvault commands. main.cc lists them once, in the order --help shows them; each Add
// function defines its command's flags and binds it to the command's Run function.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <utility>

#include "cli/globals.h"
#include "cli/output.h"

namespace chatvault::cli {

// Runs the command the user chose once the whole command line is parsed (so global flags given
// after the command count too), prints its report and keeps the exit code for main.
class CommandRunner {
 public:
  explicit CommandRunner(const Globals& globals) : globals_(globals) {}

  // `run(globals)` returns a Result<Report> (see output.h).
  template <typename Run>
  void OnRun(CLI::App* command, Run run) {
    command->callback([this, run] { Finish(run(globals_)); });
  }

  // Adds the subcommand `name` to `parent` with an Options value for its flags to fill, and runs
  // `run(globals, options)` when the user chose it. The options live as long as the command does
  // (its callback owns them), because CLI11 writes the flags into them during the parse. The
  // help text comes last, as in CLI11's add_option(name, variable, description).
  template <typename Options, typename Run>
  std::pair<CLI::App*, Options*> AddCommand(CLI::App& parent, const std::string& name, Run run,
                                            const std::string& description) {
    auto options = std::make_shared<Options>();
    CLI::App* command = parent.add_subcommand(name, description);
    OnRun(command, [options, run](const Globals& g) { return run(g, *options); });
    return {command, options.get()};
  }

  template <typename R>
  void Finish(const Result<R>& result) {
    exit_code_ = Emit(globals_, result);
  }

  const Globals& globals() const { return globals_; }
  int exit_code() const { return exit_code_; }

 private:
  const Globals& globals_;
  int exit_code_ = 0;
};

void AddInitCommand(CLI::App& app, CommandRunner& runner);
void AddBackupCommand(CLI::App& app, CommandRunner& runner);
void AddRestoreCommand(CLI::App& app, CommandRunner& runner);
void AddVerifyCommand(CLI::App& app, CommandRunner& runner);
void AddBackupsCommand(CLI::App& app, CommandRunner& runner);
void AddPasswordCommand(CLI::App& app, CommandRunner& runner);
void AddDisableCommand(CLI::App& app, CommandRunner& runner);
void AddStatusCommand(CLI::App& app, CommandRunner& runner);
void AddWhatsAppCommand(CLI::App& app, CommandRunner& runner);

}  // namespace chatvault::cli
