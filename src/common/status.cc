#include "chatvault/common/status.h"

#include <cstdio>
#include <cstdlib>

namespace chatvault {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kInvalidArgument: return "invalid argument";
    case Code::kNotFound: return "not found";
    case Code::kAlreadyExists: return "already exists";
    case Code::kWrongKey: return "wrong key";
    case Code::kCorrupted: return "corrupted";
    case Code::kTruncated: return "truncated";
    case Code::kUnsupported: return "unsupported";
    case Code::kPermissionDenied: return "permission denied";
    case Code::kLockedOut: return "locked out";
    case Code::kConflict: return "conflict";
    case Code::kUnavailable: return "unavailable";
    case Code::kIo: return "i/o error";
    case Code::kNoSpace: return "not enough space";
    case Code::kInternal: return "internal error";
    case Code::kCancelled: return "cancelled";
    case Code::kForeignBackup: return "foreign backup";
    case Code::kSuspiciousData: return "suspicious data";
    case Code::kRolledBack: return "rolled back";
  }
  return "unknown";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(CodeName(code_));
  if (!message_.empty()) {
    out += ": ";
    out += message_;
  }
  return out;
}

Status Status::WithDetail(Detail detail) const {
  Status out = *this;
  if (!ok()) out.detail_ = detail;
  return out;
}

Status Status::Annotate(std::string_view context) const {
  if (ok()) return *this;
  return Status(code_, std::string(context) + ": " + message_).WithDetail(detail_);
}

namespace internal {

void DieOnValueOfError(const Status& status) {
  std::fprintf(stderr, "chatvault: the value of a failed Result was read: %s\n",
               status.ToString().c_str());
  std::abort();
}

}  // namespace internal

}  // namespace chatvault
