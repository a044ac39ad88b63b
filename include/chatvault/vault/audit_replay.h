// Replaying the audit log after a restore (docs/OPERATIONS.md, "Restoring"). A restored store
// holds every record as it was at the snapshot; the audit log, kept elsewhere, says what
// happened since. Replaying it makes the restored records at least as strict as the lost ones:
//
// - a record destroyed at the guess limit after the snapshot is destroyed again, and one its
//   owner deleted is deleted again;
// - a record's counter is raised to the guesses counted after the snapshot that no valid login
//   settled (and lowered only by the logins the log shows settled, never below the truth);
// - an account registered again after the snapshot (a password change or reset) comes back with
//   its older registration: its counter is raised by the new registration's unsettled guesses,
//   and the report names it, because the user's current password does not open it. Registration
//   lines carry the registration's random id, so a registration the snapshot already holds is
//   recognised as the restored one.
//
// The same rules apply to a realm's shares (docs/REALMS.md), whose lines the log marks
// ("record":"realm"): an account may have a record of each kind, counted apart.
//
// Every step only ever moves a record forward (higher counters, tombstone, deletion), so
// replaying the same lines twice, or lines the snapshot already holds, changes nothing more.
// That is what lets the replay start a little before the snapshot's time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chatvault/common/status.h"
#include "chatvault/crypto/secret.h"
#include "chatvault/vault/audit_log.h"
#include "chatvault/vaultstore/record_store.h"

namespace chatvault::vault {

// The fields of one audit line the replay needs.
struct AuditLine {
  int64_t time_ms = 0;
  std::string event;
  std::string account;  // the keyed hash
  std::optional<uint64_t> serial;
  std::string registration;  // hex, on "registered" and "replaced" lines
  AuditedRecord record = AuditedRecord::kAccount;
};

// Parses JSON lines as JsonLinesAuditLog writes them. kInvalidArgument naming `source` and the
// line for one that is not such an object. A last line cut short (a crash mid-write) is skipped.
Result<std::vector<AuditLine>> ParseAuditLines(std::string_view text, std::string_view source);

struct ReplayChange {
  AuditedRecord record = AuditedRecord::kAccount;
  std::string account;  // the hash, as in the log
  std::string what;     // one sentence
};

struct ReplayReport {
  uint64_t lines_considered = 0;  // at or after `since`
  uint64_t accounts_in_log = 0;   // accounts with a line that can change a record
  uint64_t counters_raised = 0;
  uint64_t counters_lowered = 0;  // guesses from before the snapshot that a login settled
  uint64_t destroyed = 0;
  uint64_t deleted = 0;
  uint64_t registered_again = 0;  // restored with an older registration
  uint64_t not_in_store = 0;      // registered after the snapshot: gone with the restore
  std::vector<ReplayChange> changes;
};

struct ReplayOptions {
  int64_t since_ms = 0;  // lines before this are ignored
  bool dry_run = false;  // report, write nothing
};

// Applies `lines` (from every instance's log, any order) to the records in `store`, account
// records and realm shares alike. The master
// secret is the one keyvaultd's HSM unwraps: it keys the account hashes and seals the records.
Result<ReplayReport> ReplayAuditLog(vaultstore::RecordStore& store,
                                    const crypto::Secret& master_secret,
                                    std::vector<AuditLine> lines, const ReplayOptions& options);

}  // namespace chatvault::vault
