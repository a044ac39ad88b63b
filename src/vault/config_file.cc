#include "vault/config_file.h"

#include <algorithm>

namespace chatvault::vault {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool ValidName(std::string_view name) {
  return !name.empty() && name.front() >= 'a' && name.front() <= 'z' &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
         });
}

// A TOML basic string starting at text[0] == '"'; the rest of the line may only be a comment.
Result<std::string> Quoted(std::string_view text, const std::string& where) {
  std::string value;
  size_t i = 1;
  for (; i < text.size() && text[i] != '"'; ++i) {
    if (text[i] == '\\') {
      if (++i == text.size() || (text[i] != '"' && text[i] != '\\')) {
        return InvalidArgument(where + ": only \\\" and \\\\ are escapes in a quoted value");
      }
    }
    value += text[i];
  }
  if (i == text.size()) return InvalidArgument(where + ": the quoted value does not end");
  std::string_view rest = Trim(text.substr(i + 1));
  if (!rest.empty() && rest.front() != '#') {
    return InvalidArgument(where + ": unexpected text after the quoted value");
  }
  return value;
}

}  // namespace

Result<std::vector<ConfigSetting>> ParseConfig(std::string_view text, std::string_view source) {
  std::vector<ConfigSetting> settings;
  int line_number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    std::string_view line = Trim(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    const std::string where = std::string(source) + " line " + std::to_string(line_number);
    const size_t equals = line.find('=');
    if (equals == std::string_view::npos) {
      return InvalidArgument(where + ": expected 'name = value'");
    }
    ConfigSetting setting;
    setting.name = std::string(Trim(line.substr(0, equals)));
    setting.line = line_number;
    if (!ValidName(setting.name)) {
      return InvalidArgument(where +
                             ": a setting's name is a serve flag without its dashes, "
                             "such as 'listen' or 'max-connections'");
    }
    std::string_view value = Trim(line.substr(equals + 1));
    if (!value.empty() && value.front() == '"') {
      CV_ASSIGN_OR_RETURN(setting.value, Quoted(value, where));
    } else {
      // A bare value ends at a comment; a '#' inside a value needs quotes.
      const size_t comment = value.find(" #");
      setting.value = std::string(Trim(value.substr(0, comment)));
      if (setting.value.empty())
        return InvalidArgument(where + ": '" + setting.name + "' has no value");
    }
    for (const ConfigSetting& earlier : settings) {
      if (earlier.name == setting.name) {
        return InvalidArgument(where + ": '" + setting.name + "' was already set on line " +
                               std::to_string(earlier.line));
      }
    }
    settings.push_back(std::move(setting));
  }
  return settings;
}

}  // namespace chatvault::vault
