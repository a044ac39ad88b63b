// Test hook for crash-safety tests: when CHATVAULT_TEST_CRASH_AFTER names a step, the process
// ends abruptly (_exit, no cleanup, like kill -9) right after that step. Steps, in commit order:
// "snapshot", the database's "rebase" (first base chunk stored), "pack" (first pack stored) and
// "pagehashes" (first page hash list stored), "chunk" (first new media chunk stored), "chunks"
// (all stored), "manifest", "pointer", "cache" (the device's page hash cache replaced),
// "cleanup" (first old object deleted); and in a restore "restore-chunk" (first chunk written to
// its temp file).
#pragma once

#include <string_view>

namespace chatvault::backup {

void CrashPoint(std::string_view step);

}  // namespace chatvault::backup
