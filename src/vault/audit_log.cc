#include "chatvault/vault/audit_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include <nlohmann/json.hpp>

#include "chatvault/crypto/hash.h"

namespace chatvault::vault {

std::string_view AuditEventName(AuditEventKind kind) {
  switch (kind) {
    case AuditEventKind::kRegistered: return "registered";
    case AuditEventKind::kReplaced: return "replaced";
    case AuditEventKind::kGuessCounted: return "guess_counted";
    case AuditEventKind::kLoginSettled: return "login_settled";
    case AuditEventKind::kWrongPassword: return "wrong_password";
    case AuditEventKind::kNoAttemptsLeft: return "no_attempts_left";
    case AuditEventKind::kRecordDestroyed: return "record_destroyed";
    case AuditEventKind::kDeleted: return "deleted";
    case AuditEventKind::kTokenRejected: return "token_rejected";
    case AuditEventKind::kProofRejected: return "proof_rejected";
    case AuditEventKind::kBackupSequence: return "backup_sequence";
  }
  return "unknown";
}

Result<std::unique_ptr<JsonLinesAuditLog>> JsonLinesAuditLog::Open(const std::string& path,
                                                                    bool sync,
                                                                    crypto::Secret account_key,
                                                                    std::string instance) {
  if (path == "-") {
    return std::unique_ptr<JsonLinesAuditLog>(new JsonLinesAuditLog(
        STDOUT_FILENO, /*owned=*/false, sync, std::move(account_key), std::move(instance), path));
  }
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fd < 0) {
    return IoError("cannot open the audit log " + path + ": " + std::strerror(errno));
  }
  return std::unique_ptr<JsonLinesAuditLog>(new JsonLinesAuditLog(
      fd, /*owned=*/true, sync, std::move(account_key), std::move(instance), path));
}

JsonLinesAuditLog::JsonLinesAuditLog(int fd, bool owned, bool sync, crypto::Secret account_key,
                                     std::string instance, std::string path)
    : fd_(fd),
      owned_(owned),
      sync_(sync),
      account_key_(std::move(account_key)),
      instance_(std::move(instance)),
      path_(std::move(path)) {}

Status JsonLinesAuditLog::Reopen() {
  if (!owned_) return OkStatus();
  const int fresh = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
  if (fresh < 0)
    return IoError("cannot reopen the audit log " + path_ + ": " + std::strerror(errno));
  // The old file's lines are on disk before the name points elsewhere (with --audit-sync they
  // were already).
  ::fdatasync(fd_);
  const int moved = ::dup3(fresh, fd_, O_CLOEXEC);
  const int error = errno;
  ::close(fresh);
  if (moved < 0)
    return IoError("cannot reopen the audit log " + path_ + ": " + std::strerror(error));
  return OkStatus();
}

JsonLinesAuditLog::~JsonLinesAuditLog() {
  if (owned_) ::close(fd_);
}

std::string JsonLinesAuditLog::AccountHash(const crypto::Secret& account_key,
                                           std::string_view account) {
  Bytes mac = crypto::HmacSha256(account_key.view(), AsBytes(account));
  mac.resize(16);
  return HexEncode(mac);
}

Status JsonLinesAuditLog::Record(const AuditEvent& event) {
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  nlohmann::json line{
      {"time_ms", std::chrono::duration_cast<std::chrono::milliseconds>(now).count()},
      {"instance", instance_},
      {"request", std::string(event.request_id)},
      {"event", std::string(AuditEventName(event.kind))},
      {"account", AccountHash(account_key_, event.account)}};
  if (event.serial) line["serial"] = *event.serial;
  if (event.attempts_left) line["attempts_left"] = *event.attempts_left;
  if (event.sequence) line["sequence"] = *event.sequence;
  if (!event.reason.empty()) line["reason"] = std::string(event.reason);
  if (!event.registration.empty()) line["registration"] = HexEncode(event.registration);
  if (event.record == AuditedRecord::kRealm) line["record"] = "realm";
  const std::string text = line.dump() + "\n";
  const ssize_t n = ::write(fd_, text.data(), text.size());
  if (n != static_cast<ssize_t>(text.size())) {
    return IoError(std::string("cannot write the audit log: ") +
                   (n < 0 ? std::strerror(errno) : "short write"));
  }
  if (sync_ && ::fdatasync(fd_) != 0 && errno != EINVAL) {
    return IoError(std::string("cannot flush the audit log: ") + std::strerror(errno));
  }
  return OkStatus();
}

}  // namespace chatvault::vault
