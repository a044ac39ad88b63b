// The small line-oriented files keyvaultd reads (its configuration, its token keys): lines
// trimmed of blanks, blank lines and '#' comments skipped, each line named for error messages.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace chatvault::vault {

// `s` without leading blanks and without trailing blanks or '\r'.
inline std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

struct SettingLine {
  int number = 0;          // 1-based
  std::string_view text;   // trimmed; never empty, never a comment
  std::string where;       // "<source> line <number>"
};

inline std::vector<SettingLine> SettingLines(std::string_view text, std::string_view source) {
  std::vector<SettingLine> lines;
  int number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view line = TrimBlanks(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++number;
    if (line.empty() || line.front() == '#') continue;
    lines.push_back({number, line, std::string(source) + " line " + std::to_string(number)});
  }
  return lines;
}

}  // namespace chatvault::vault
