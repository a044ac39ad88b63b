// The flags every chatvault command takes, before or after the command's name.
#pragma once

#include <string>

namespace chatvault::cli {

struct Globals {
  bool json = false;   // one JSON object on stdout instead of human text
  bool quiet = false;  // no progress output
  // This device's chatvault state (config, key file when kept locally, cache):
  // --home, else $CHATVAULT_HOME, else $HOME/.local/share/chatvault.
  std::string home;
};

}  // namespace chatvault::cli
