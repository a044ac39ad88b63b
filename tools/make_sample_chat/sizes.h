// Human sizes on the command line: "50K", "5M", "1G", "4096" (binary multiples).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "chatvault/common/status.h"

namespace chatvault::sample {

Result<uint64_t> ParseSize(std::string_view text);
std::string FormatSize(uint64_t bytes);

}  // namespace chatvault::sample
