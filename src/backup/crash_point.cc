#include "backup/crash_point.h"

#include <unistd.h>

#include <cstdlib>

namespace chatvault::backup {

void CrashPoint(std::string_view step) {
  const char* want = std::getenv("CHATVAULT_TEST_CRASH_AFTER");
  if (want && step == want) ::_exit(99);
}

}  // namespace chatvault::backup
