// File permissions that hold even for root. The suite often runs as root, whose capabilities
// override file modes; a test of "this file cannot be read" must take those away first.
#pragma once

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdint>

namespace chatvault::testing {

inline constexpr uint32_t kFileOverrideCaps =
    (1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH);

// While alive, the calling thread (and threads it starts) no longer bypasses file modes.
// Capabilities are per thread, so this affects nothing else in the process; the permitted set is
// kept, so the destructor can raise them again.
class WithoutFileAccessOverride {
 public:
  WithoutFileAccessOverride() {
    header_.version = _LINUX_CAPABILITY_VERSION_3;
    header_.pid = 0;
    if (::syscall(SYS_capget, &header_, saved_) != 0) return;
    __user_cap_data_struct lowered[2] = {saved_[0], saved_[1]};
    lowered[0].effective &= ~kFileOverrideCaps;
    active_ = ::syscall(SYS_capset, &header_, lowered) == 0;
  }
  ~WithoutFileAccessOverride() {
    if (active_) ::syscall(SYS_capset, &header_, saved_);
  }
  WithoutFileAccessOverride(const WithoutFileAccessOverride&) = delete;
  WithoutFileAccessOverride& operator=(const WithoutFileAccessOverride&) = delete;

 private:
  __user_cap_header_struct header_{};
  __user_cap_data_struct saved_[2]{};
  bool active_ = false;
};

// For a child process about to exec: drops the same capabilities from the bounding set, so the
// program it runs (even as root) cannot get them back.
inline void DropFileAccessOverrideForExec() {
  ::prctl(PR_CAPBSET_DROP, CAP_DAC_OVERRIDE, 0, 0, 0);
  ::prctl(PR_CAPBSET_DROP, CAP_DAC_READ_SEARCH, 0, 0, 0);
}

}  // namespace chatvault::testing
