// The local directory provider: the embedded default "cloud" (a folder on this machine, a USB
// disk, a mounted network share). Objects are plain files under the root, named as the object.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "chatvault/storage/provider.h"

namespace chatvault::storage {

// Opens (without creating) a provider rooted at `root`. The directory is created on the first
// write, so opening a location that does not exist yet is fine for a first backup.
std::unique_ptr<Provider> OpenLocalProvider(std::string root);

// Checks an object name against the rules every provider enforces: non-empty relative path of
// [A-Za-z0-9._-] components separated by single '/', no component starting with '.', so "..",
// absolute paths and hidden temp files are impossible. InvalidArgument otherwise.
Status ValidateObjectName(std::string_view name);

}  // namespace chatvault::storage
