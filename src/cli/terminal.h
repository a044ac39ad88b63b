// Terminal helpers for the commands: prompts (with echo off for keys) and a progress bar.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "chatvault/backup/engine.h"
#include "chatvault/key/backup_key.h"

namespace chatvault::cli {

bool StdinIsTerminal();
bool StderrIsTerminal();

// Prints `prompt` on stderr and reads one line from stdin; echo is off when stdin is a terminal
// and `echo` is false. nullopt at end of input.
std::optional<std::string> ReadLine(const std::string& prompt, bool echo);

// Replacing another key's backup deletes it: on a terminal the user types `word` to agree
// (a flag in a script is agreement enough). True when agreed.
bool ConfirmByTyping(const std::string& what_happens, const std::string& word);

// Asks for the 64-digit key just shown until it matches `expected` (three tries). True when
// the user typed it back, proof that they saved it.
bool ProveKeySaved(const key::BackupKey& expected);

// A one-line progress bar on stderr, redrawn at most ten times a second. Does nothing unless
// stderr is a terminal and output is not quiet.
class ProgressBar {
 public:
  explicit ProgressBar(bool enabled);
  ~ProgressBar();
  void Update(const backup::Progress& p);
  void Finish();

 private:
  bool enabled_;
  bool drawn_ = false;
  std::string last_phase_;
  std::chrono::steady_clock::time_point last_draw_{};
};

// "1.2 GiB", "340.0 KiB"
std::string HumanBytes(uint64_t bytes);
// "3.4 s"
std::string SecondsText(double seconds);
// "2024-05-01 12:00:00 UTC", or "never" for 0
std::string TimeText(int64_t unix_seconds);

}  // namespace chatvault::cli
