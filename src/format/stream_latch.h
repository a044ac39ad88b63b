// The call rules Encryptor and Decryptor share: once a call fails, every later call returns that
// same failure (a stream broken half-way must not carry on as if it were whole), and nothing is
// accepted after Finish.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "chatvault/common/status.h"

namespace chatvault::format::internal {

class StreamLatch {
 public:
  // `name` is what messages call the stream: "encryptor", "decryptor".
  explicit StreamLatch(std::string_view name) : name_(name) {}

  // Runs one Write step (returning a Status) if the stream can still take it.
  template <typename Step>
  Status Write(Step&& step) {
    CV_RETURN_IF_ERROR(CheckUsable());
    return Remember(step());
  }

  // Runs the Finish step; the stream is finished whatever the step returns.
  template <typename Step>
  Status Finish(Step&& step) {
    CV_RETURN_IF_ERROR(CheckUsable());
    finished_ = true;
    return Remember(step());
  }

 private:
  Status CheckUsable() const {
    if (failed_) return *failed_;
    if (finished_) return InvalidArgument("the " + name_ + " was already finished");
    return OkStatus();
  }

  Status Remember(Status s) {
    if (!s.ok()) failed_ = s;
    return s;
  }

  std::string name_;
  std::optional<Status> failed_;
  bool finished_ = false;
};

}  // namespace chatvault::format::internal
