#include "cli/terminal.h"

#include <termios.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <sstream>

namespace chatvault::cli {

bool StdinIsTerminal() { return ::isatty(STDIN_FILENO) == 1; }
bool StderrIsTerminal() { return ::isatty(STDERR_FILENO) == 1; }

std::optional<std::string> ReadLine(const std::string& prompt, bool echo) {
  std::cerr << prompt << std::flush;
  termios saved{};
  const bool hide = !echo && StdinIsTerminal() && ::tcgetattr(STDIN_FILENO, &saved) == 0;
  if (hide) {
    termios quiet = saved;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::string line;
  const bool got = static_cast<bool>(std::getline(std::cin, line));
  if (hide) {
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::cerr << "\n";
  }
  if (!got) return std::nullopt;
  return line;
}

bool ConfirmByTyping(const std::string& what_happens, const std::string& word) {
  if (!StdinIsTerminal()) return true;
  std::cerr << what_happens << "\n";
  auto line = ReadLine("Type " + word + " to go on: ", /*echo=*/true);
  return line && *line == word;
}

bool ProveKeySaved(const key::BackupKey& expected) {
  constexpr int kTries = 3;
  for (int attempt = 1; attempt <= kTries; ++attempt) {
    auto line = ReadLine("Type the 64-digit key you saved, to prove you have it: ", true);
    if (!line) return false;
    auto typed = key::BackupKey::Parse(*line);
    if (!typed.ok()) {
      std::cerr << "That is not a backup key: " << typed.status().message() << ".\n";
    } else if (typed->secret().Equals(expected.secret())) {
      return true;
    } else {
      std::cerr << "That key does not match the one shown above.\n";
    }
    if (attempt < kTries) std::cerr << "Try again (" << kTries - attempt << " left).\n";
  }
  return false;
}

std::string HumanBytes(uint64_t bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  }
  return buf;
}

std::string SecondsText(double seconds) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1) << seconds << " s";
  return out.str();
}

std::string TimeText(int64_t unix_seconds) {
  if (unix_seconds <= 0) return "never";
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm utc{};
  ::gmtime_r(&t, &utc);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &utc);
  return buf;
}

ProgressBar::ProgressBar(bool enabled) : enabled_(enabled && StderrIsTerminal()) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Update(const backup::Progress& p) {
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  if (p.phase == last_phase_ && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_phase_ = p.phase;
  last_draw_ = now;
  const double fraction = p.bytes_total ? static_cast<double>(p.bytes_done) / p.bytes_total : 0.0;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  char line[200];
  if (p.phase == "snapshot") {
    std::snprintf(line, sizeof line, "\r%-8s [%s] %3d%% of the database pages   ", p.phase.c_str(),
                  bar.c_str(), static_cast<int>(fraction * 100));
  } else {
    std::snprintf(line, sizeof line, "\r%-8s [%s] %3d%% %s / %s  %llu/%llu files   ",
                  p.phase.c_str(), bar.c_str(), static_cast<int>(fraction * 100),
                  HumanBytes(p.bytes_done).c_str(), HumanBytes(p.bytes_total).c_str(),
                  static_cast<unsigned long long>(p.files_done),
                  static_cast<unsigned long long>(p.files_total));
  }
  std::cerr << line << std::flush;
  drawn_ = true;
}

void ProgressBar::Finish() {
  if (drawn_) std::cerr << "\r\033[K" << std::flush;
  drawn_ = false;
}

}  // namespace chatvault::cli
