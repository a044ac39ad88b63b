#include "vault/config_file.h"

#include <algorithm>

#include "vault/setting_lines.h"

namespace chatvault::vault {
namespace {

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
  std::string_view rest = TrimBlanks(text.substr(i + 1));
  if (!rest.empty() && rest.front() != '#') {
    return InvalidArgument(where + ": unexpected text after the quoted value");
  }
  return value;
}

}  // namespace

Result<std::vector<ConfigSetting>> ParseConfig(std::string_view text, std::string_view source) {
  std::vector<ConfigSetting> settings;
  for (const SettingLine& numbered : SettingLines(text, source)) {
    const std::string_view line = numbered.text;
    const std::string& where = numbered.where;
    const size_t equals = line.find('=');
    if (equals == std::string_view::npos) {
      return InvalidArgument(where + ": expected 'name = value'");
    }
    ConfigSetting setting;
    setting.name = std::string(TrimBlanks(line.substr(0, equals)));
    setting.line = numbered.number;
    if (!ValidName(setting.name)) {
      return InvalidArgument(where +
                             ": a setting's name is a serve flag without its dashes, "
                             "such as 'listen' or 'max-connections'");
    }
    std::string_view value = TrimBlanks(line.substr(equals + 1));
    if (!value.empty() && value.front() == '"') {
      CV_ASSIGN_OR_RETURN(setting.value, Quoted(value, where));
    } else {
      // A bare value ends at a comment; a '#' inside a value needs quotes.
      const size_t comment = value.find(" #");
      setting.value = std::string(TrimBlanks(value.substr(0, comment)));
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
