// Errors are values: every fallible operation returns a Status or a Result<T> carrying a code and
// one human sentence. No exceptions cross a module boundary.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace chatvault {

enum class Code {
  kOk = 0,
  kInvalidArgument,   // the caller passed something malformed (bad key text, bad flag)
  kNotFound,          // an object, backup or account does not exist
  kAlreadyExists,     // a conditional write lost: the thing is already there
  kWrongKey,          // the data is intact but was encrypted under another key
  kCorrupted,         // authentication failed, truncation, reordering: the bytes were changed
  kTruncated,         // the data ends early
  kUnsupported,       // a version or feature this build does not know
  kPermissionDenied,  // bad token, wrong password
  kLockedOut,         // the guess limit was reached; the secret is gone
  kConflict,          // a compare-and-set lost to a concurrent writer; retry
  kUnavailable,       // a service cannot be reached now; retry later
  kIo,                // the operating system refused a read or write
  kNoSpace,           // the disk or the user's quota is full (ENOSPC, EDQUOT), or would be
  kInternal,          // a bug or an impossible state
  kCancelled,
  kForeignBackup,   // the location holds a backup made with another key; writing would replace it
  kSuspiciousData,  // a new backup looks like lost data (emptied or damaged) and was held back
  kRolledBack,      // the location is older than what was known to be committed there
};

std::string_view CodeName(Code code);

// A finer reason inside a Code, for the few callers that must tell two failures of one code apart
// (a Code is what every caller and the exit codes sort by; a Detail does not change that). Code
// branches on it, never on the message. Add a value only together with a caller that needs it.
enum class Detail {
  kNone = 0,
  kWrongPurpose,  // kCorrupted: an intact object made for another role (objects were swapped)
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  Detail detail() const { return detail_; }
  // Corrupted("...").WithDetail(Detail::kWrongPurpose); an OK status stays detail-free.
  Status WithDetail(Detail detail) const;
  // "corrupted: segment 3 failed authentication"
  std::string ToString() const;

  // Prefixes context, keeping the code and the detail:
  // Status(kIo, "disk full").Annotate("writing manifest") -> "writing manifest: disk full".
  Status Annotate(std::string_view context) const;

 private:
  Code code_ = Code::kOk;
  Detail detail_ = Detail::kNone;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {Code::kAlreadyExists, std::move(m)}; }
inline Status WrongKey(std::string m) { return {Code::kWrongKey, std::move(m)}; }
inline Status Corrupted(std::string m) { return {Code::kCorrupted, std::move(m)}; }
inline Status Truncated(std::string m) { return {Code::kTruncated, std::move(m)}; }
inline Status Unsupported(std::string m) { return {Code::kUnsupported, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
inline Status LockedOut(std::string m) { return {Code::kLockedOut, std::move(m)}; }
inline Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status IoError(std::string m) { return {Code::kIo, std::move(m)}; }
inline Status NoSpace(std::string m) { return {Code::kNoSpace, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }
inline Status Cancelled(std::string m) { return {Code::kCancelled, std::move(m)}; }
inline Status ForeignBackup(std::string m) { return {Code::kForeignBackup, std::move(m)}; }
inline Status SuspiciousData(std::string m) { return {Code::kSuspiciousData, std::move(m)}; }
inline Status RolledBack(std::string m) { return {Code::kRolledBack, std::move(m)}; }

namespace internal {
// Prints the status to stderr and aborts: reading the value of a failed Result is a bug, and
// stopping there (as abseil's StatusOr does) beats running on with an empty value.
[[noreturn]] void DieOnValueOfError(const Status& status);
}  // namespace internal

// Result<T> holds either a value or a non-OK Status. value(), * and -> on an error terminate the
// process with the status printed; check ok() first.
template <typename T>
class [[nodiscard]] Result {
 public:
  using value_type = T;

  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    if (status_.ok()) status_ = Internal("Result constructed from an OK status without a value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & { return CheckedValue(); }
  const T& value() const& { return CheckedValue(); }
  T&& value() && { return std::move(CheckedValue()); }
  T* operator->() { return &CheckedValue(); }
  const T* operator->() const { return &CheckedValue(); }
  T& operator*() & { return CheckedValue(); }
  const T& operator*() const& { return CheckedValue(); }
  T&& operator*() && { return std::move(CheckedValue()); }

 private:
  T& CheckedValue() {
    if (!value_.has_value()) internal::DieOnValueOfError(status_);
    return *value_;
  }
  const T& CheckedValue() const {
    if (!value_.has_value()) internal::DieOnValueOfError(status_);
    return *value_;
  }

  std::optional<T> value_;
  Status status_;
};

}  // namespace chatvault

#define CV_CONCAT_INNER_(a, b) a##b
#define CV_CONCAT_(a, b) CV_CONCAT_INNER_(a, b)

// Returns early from the enclosing function when `expr` yields a non-OK Status.
#define CV_RETURN_IF_ERROR(expr)                 \
  do {                                           \
    ::chatvault::Status cv_status_ = (expr);     \
    if (!cv_status_.ok()) return cv_status_;     \
  } while (0)

// CV_ASSIGN_OR_RETURN(auto x, MakeX()); declares x from a Result or returns its Status.
#define CV_ASSIGN_OR_RETURN(lhs, expr) \
  CV_ASSIGN_OR_RETURN_IMPL_(CV_CONCAT_(cv_result_, __LINE__), lhs, expr)
#define CV_ASSIGN_OR_RETURN_IMPL_(result, lhs, expr) \
  auto result = (expr);                              \
  if (!result.ok()) return result.status();          \
  lhs = std::move(result).value()
