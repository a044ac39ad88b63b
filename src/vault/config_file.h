// keyvaultd's configuration file: one "name = value" per line, where every name is one of
// `keyvaultd serve`'s flags without its leading dashes (docs/OPERATIONS.md, "Configuration").
// Values may be quoted as TOML strings ("..." with \" and \\), so a file in the TOML subset that
// tools already write is read the same way; '#' starts a comment outside quotes. This file only
// reads the text; keyvaultd checks the names against its flags, so an unknown name is an error
// there, and a flag given on the command line wins over the file.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "chatvault/common/status.h"

namespace chatvault::vault {

struct ConfigSetting {
  std::string name;
  std::string value;
  int line = 0;
};

// kInvalidArgument naming `source` and the line for anything malformed: a line without '=', a
// name that is not lowercase letters, digits and '-', an unterminated quote, text after a
// quoted value, or a name given twice.
Result<std::vector<ConfigSetting>> ParseConfig(std::string_view text, std::string_view source);

}  // namespace chatvault::vault
