// keyvaultd's audit log: one JSON line per security event, written before the event's effect is
// acknowledged to the client. It names accounts only by a keyed hash and never holds a secret, a
// password-derived value or a token. docs/OPERATIONS.md ("Audit log") lists the events and how an
// operator replays counted guesses after restoring an older copy of the record store.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"

namespace chatvault::vault {

enum class AuditEventKind {
  kRegistered,       // a record was created
  kReplaced,         // a record or tombstone was replaced (password change, reset)
  kGuessCounted,     // a password guess was durably counted (KE2 about to leave)
  kLoginSettled,     // a valid KE3 settled its guess and the earlier ones
  kWrongPassword,    // a KE3 did not verify
  kNoAttemptsLeft,   // a new guess was refused at the limit
  kRecordDestroyed,  // the limit was reached: the record became a tombstone
  kDeleted,          // the owner deleted the record
  kTokenRejected,    // an account token was malformed, expired or forged
  kProofRejected,    // a device-key signature did not verify
  kBackupSequence,   // the device reported a newer backup
};

std::string_view AuditEventName(AuditEventKind kind);

// Which kind of record an event is about. One keyvaultd serves the single vault and a realm from
// one store and one log, and an account may have a record of each, numbered apart; the replay
// after a restore must not mix their lines.
enum class AuditedRecord {
  kAccount,  // the single vault's account record (lines without a "record" field)
  kRealm,    // a realm's share ("record":"realm")
};

struct AuditEvent {
  AuditEvent(AuditEventKind kind, std::string_view account, std::string_view request_id)
      : kind(kind), account(account), request_id(request_id) {}
  AuditEvent& Guess(uint64_t guess_serial, uint32_t attempts) {
    serial = guess_serial;
    attempts_left = attempts;
    return *this;
  }
  AuditEvent& Because(std::string_view why) {
    reason = why;
    return *this;
  }
  // The new registration's random id (AccountRecord::generation, a realm share's version):
  // nothing derived from the password, it lets the replay after a restore tell which registration a
  // line is about.
  AuditEvent& Registration(ByteView generation) {
    registration = generation;
    return *this;
  }

  AuditEventKind kind;
  std::string_view account;
  std::string_view request_id;
  std::optional<uint64_t> serial;         // the guess number, for guess and login events
  std::optional<uint32_t> attempts_left;  // for guess and login events
  std::optional<uint64_t> sequence;       // for kBackupSequence
  std::string_view reason;                // for rejections: one short phrase, never the input
  ByteView registration;                  // for kRegistered and kReplaced
  AuditedRecord record = AuditedRecord::kAccount;
};

class AuditLog {
 public:
  virtual ~AuditLog() = default;
  // Durable enough for the deployment (docs/OPERATIONS.md) once it returns OK.
  virtual Status Record(const AuditEvent& event) = 0;
};

// JSON lines appended to a file (or written to stdout for "-"): each event is one write(2) of a
// whole line on an O_APPEND descriptor, so lines from concurrent requests never interleave and an
// event survives a crash of keyvaultd once Record returns; with `sync` each line is also
// fdatasync'd, so it survives a power cut.
class JsonLinesAuditLog final : public AuditLog {
 public:
  // `account_key` keys the account hash (so the log does not name users but an operator holding
  // the vault's secrets can find one user's lines); `instance` names this keyvaultd.
  static Result<std::unique_ptr<JsonLinesAuditLog>> Open(const std::string& path, bool sync,
                                                          crypto::Secret account_key,
                                                          std::string instance);
  ~JsonLinesAuditLog() override;
  Status Record(const AuditEvent& event) override;

  // Opens the path again and writes there from now on (SIGHUP, after logrotate moved the file).
  // The new file takes the old descriptor's number in one dup2(2), so a line being written goes
  // whole to one file or the other. A no-op for stdout; on an error the old file stays.
  Status Reopen();

  // The hash that stands for `account` in the log: 32 hex digits of HMAC-SHA256.
  static std::string AccountHash(const crypto::Secret& account_key, std::string_view account);

 private:
  JsonLinesAuditLog(int fd, bool owned, bool sync, crypto::Secret account_key, std::string instance,
                    std::string path);
  int fd_;
  bool owned_;
  bool sync_;
  crypto::Secret account_key_;
  std::string instance_;
  std::string path_;
};

}  // namespace chatvault::vault
