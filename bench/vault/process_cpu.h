// What the vault benchmarks read of a server process: the CPU it has used so far.
#pragma once

#include <unistd.h>

#include <fstream>
#include <iterator>
#include <sstream>
#include <string>

namespace chatvault::bench {

// CPU time (user + system, all threads) that process `pid` has used so far, in microseconds;
// 0 when it is gone.
inline double ProcessCpuMicros(const std::string& pid) {
  std::ifstream in("/proc/" + pid + "/stat");
  const std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (stat.empty()) return 0;
  // The command name (field 2) may hold spaces; the fields after its ')' are plain numbers.
  std::istringstream rest(stat.substr(stat.rfind(')') + 1));
  std::string skipped;
  for (int field = 3; field <= 13; ++field) rest >> skipped;
  unsigned long long utime = 0, stime = 0;
  rest >> utime >> stime;
  return static_cast<double>(utime + stime) * 1e6 / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

}  // namespace chatvault::bench
