#include "chatvault/vault/audit_replay.h"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "chatvault/vault/account_record.h"
#include "chatvault/vault/vault_service.h"
#include "vault/realm_record.h"
#include "vault/sealed_box.h"

namespace chatvault::vault {
namespace {

constexpr int kCasRetries = 16;

// What differs between the kinds of record the replay restores; the rules are the same.
template <typename Record>
struct ReplayedKind;

template <>
struct ReplayedKind<AccountRecord> {
  static constexpr AuditedRecord kAudited = AuditedRecord::kAccount;
  static constexpr std::string_view kPrefix = "acct/";
  static constexpr std::string_view kOlderRegistration =
      "restored with its older registration, which the user's current password does not open";
  static constexpr std::string_view kGone = "its user must register again";
};

template <>
struct ReplayedKind<RealmRecord> {
  static constexpr AuditedRecord kAudited = AuditedRecord::kRealm;
  static constexpr std::string_view kPrefix = "realm/";
  // Recovery uses the newest version t realms hold (docs/REALMS.md), so this realm is left out
  // until the device writes its registration again.
  static constexpr std::string_view kOlderRegistration =
      "restored with its older registration, which recovery leaves out; running the password "
      "change or reset again from the device brings this realm up to date";
  static constexpr std::string_view kGone =
      "recovery leaves this realm out until the password change or reset is run again from the "
      "device";
};

// What the log says happened to one account after the snapshot. Guess numbers restart with
// every registration, so only the newest registration's guesses are comparable.
struct AccountHistory {
  enum class End { kLive, kDestroyed, kDeleted } end = End::kLive;
  bool registered_again = false;
  uint64_t newest_guess = 0;    // in the newest registration
  uint64_t newest_settled = 0;  // in the newest registration
  uint64_t open_guesses() const {
    return newest_guess > newest_settled ? newest_guess - newest_settled : 0;
  }
};

// Folds the account's lines (oldest first) into its history against the restored record's
// registration; false when none of them can change a record (rejections, backup sequences).
bool Fold(const std::vector<const AuditLine*>& lines, const std::string& restored_registration,
          AccountHistory& history) {
  bool relevant = false;
  for (const AuditLine* line : lines) {
    const std::string& e = line->event;
    const uint64_t serial = line->serial.value_or(0);
    if (e == "registered" || e == "replaced") {
      // The restored registration itself (made shortly before the snapshot) starts the history
      // afresh; any other is a newer one the restore lost.
      history = AccountHistory{};
      history.registered_again =
          line->registration.empty() || line->registration != restored_registration;
    } else if (e == "guess_counted") {
      history.newest_guess = std::max(history.newest_guess, serial);
    } else if (e == "login_settled") {
      history.newest_settled = std::max(history.newest_settled, serial);
    } else if (e == "record_destroyed") {
      history.end = AccountHistory::End::kDestroyed;
    } else if (e == "deleted") {
      history.end = AccountHistory::End::kDeleted;
    } else {
      continue;
    }
    relevant = true;
  }
  return relevant;
}

// The record after the history, or nullopt when it needs no change.
template <typename Record>
std::optional<Record> Replayed(const Record& restored, const AccountHistory& history,
                               std::string& what) {
  using State = typename Record::State;
  if (history.end == AccountHistory::End::kDeleted) {
    if (restored.state == State::kDeleted) return std::nullopt;
    Record deleted;
    deleted.state = State::kDeleted;
    what = "deleted again: its owner deleted it after the snapshot";
    return deleted;
  }
  if (!restored.active()) {  // tombstones and deletions stay as they are
    if (history.registered_again) what = "registered again after the snapshot";
    return std::nullopt;
  }
  if (history.end == AccountHistory::End::kDestroyed) {
    what = "destroyed again: it reached the guess limit after the snapshot";
    return restored.Tombstone();
  }
  Record record = restored;
  if (history.registered_again) {
    // Another registration's numbers: keep the restored numbering, add its open guesses.
    const uint64_t settled = restored.guesses.settled_serial();
    record.guesses.ReplayNumbers(
        settled + std::max(restored.guesses.failed(), history.open_guesses()), settled);
  } else {
    const uint64_t newest = std::max(restored.guesses.guess_serial(), history.newest_guess);
    record.guesses.ReplayNumbers(
        newest, std::max(restored.guesses.settled_serial(), history.newest_settled));
  }
  // Only the number of open guesses matters to the vault; numbering alone is left as it is.
  if (record.guesses.failed() == restored.guesses.failed()) {
    if (history.registered_again) what = "registered again after the snapshot";
    return std::nullopt;
  }
  what = std::string(record.guesses.failed() > restored.guesses.failed()
                         ? "guesses counted after the snapshot and not settled: "
                         : "settled by a valid login after the snapshot: ") +
         std::to_string(restored.guesses.failed()) + " -> " +
         std::to_string(record.guesses.failed()) + " wrong guesses";
  return record;
}

using LinesByAccount = std::map<std::string, std::vector<const AuditLine*>>;

// What the replay of every kind of record shares.
struct ReplayContext {
  vaultstore::RecordStore& store;
  const crypto::Secret& audit_key;
  const RecordSealer& sealer;
  const ReplayOptions& options;
  ReplayReport& report;
};

template <typename Record>
void Tally(ReplayReport& report, const Record& restored, const Record& replayed) {
  using State = typename Record::State;
  if (replayed.state == State::kTombstone) {
    ++report.destroyed;
  } else if (replayed.state == State::kDeleted) {
    ++report.deleted;
  } else if (replayed.guesses.failed() > restored.guesses.failed()) {
    ++report.counters_raised;
  } else {
    ++report.counters_lowered;
  }
}

// Replays one account's lines onto its record under `key`, again on the fresh record whenever
// another writer changed it first.
template <typename Record>
Status ReplayRecord(const std::string& key, const std::string& hash,
                    const std::vector<const AuditLine*>& lines, ReplayContext& c) {
  using Kind = ReplayedKind<Record>;
  auto note = [&](std::string what) {
    c.report.changes.push_back({Kind::kAudited, hash, std::move(what)});
  };
  for (int attempt = 0; attempt < kCasRetries; ++attempt) {
    CV_ASSIGN_OR_RETURN(std::optional<vaultstore::Versioned> stored, c.store.Get(key));
    if (!stored) return OkStatus();
    CV_ASSIGN_OR_RETURN(Bytes plain, c.sealer.Open(key, stored->value));
    CV_ASSIGN_OR_RETURN(Record restored, Record::Parse(plain));
    AccountHistory history;
    Fold(lines, HexEncode(restored.registration()), history);
    std::string what;
    std::optional<Record> replayed = Replayed(restored, history, what);
    if (!replayed) {
      if (!what.empty()) {
        ++c.report.registered_again;
        note(what + ": " + std::string(Kind::kOlderRegistration));
      }
      return OkStatus();
    }
    if (!c.options.dry_run) {
      CV_ASSIGN_OR_RETURN(Bytes sealed, c.sealer.Seal(key, replayed->Serialize()));
      auto written = c.store.CompareAndSet(key, stored->version, sealed);
      if (!written.ok() && written.status().code() == Code::kConflict) continue;
      CV_RETURN_IF_ERROR(written.status());
    }
    Tally(c.report, restored, *replayed);
    if (history.registered_again && replayed->active()) {
      ++c.report.registered_again;
      what +=
          " (registered again after the snapshot: " + std::string(Kind::kOlderRegistration) + ")";
    }
    note(std::move(what));
    return OkStatus();
  }
  return Unavailable("the record " + hash + " kept changing");
}

// Replays the lines about records of one kind onto the store's records of that kind.
template <typename Record>
Status ReplayRecords(const LinesByAccount& by_account, ReplayContext& c) {
  using Kind = ReplayedKind<Record>;
  // The log names accounts by a keyed hash; the store's keys name them in clear.
  CV_ASSIGN_OR_RETURN(std::vector<std::string> keys, c.store.ListKeys(Kind::kPrefix));
  std::map<std::string, std::string> key_of_hash;
  for (const std::string& key : keys) {
    key_of_hash[JsonLinesAuditLog::AccountHash(c.audit_key, key.substr(Kind::kPrefix.size()))] =
        key;
  }
  for (const auto& [hash, lines] : by_account) {
    AccountHistory history;
    if (!Fold(lines, "", history)) continue;
    ++c.report.accounts_in_log;
    auto found = key_of_hash.find(hash);
    if (found == key_of_hash.end()) {
      ++c.report.not_in_store;
      c.report.changes.push_back({Kind::kAudited, hash,
                                  "not in the restored store (registered after the snapshot): " +
                                      std::string(Kind::kGone)});
      continue;
    }
    CV_RETURN_IF_ERROR(ReplayRecord<Record>(found->second, hash, lines, c));
  }
  return OkStatus();
}

}  // namespace

Result<std::vector<AuditLine>> ParseAuditLines(std::string_view text, std::string_view source) {
  std::vector<AuditLine> lines;
  size_t number = 0;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    const std::string_view raw = text.substr(0, end);
    const bool last_unterminated = end == std::string_view::npos;
    text = last_unterminated ? std::string_view() : text.substr(end + 1);
    ++number;
    if (raw.empty()) continue;
    auto j = nlohmann::json::parse(raw, nullptr, /*allow_exceptions=*/false);
    const bool valid = j.is_object() && j.contains("time_ms") && j["time_ms"].is_number_integer() &&
                       j.contains("event") && j["event"].is_string() && j.contains("account") &&
                       j["account"].is_string() &&
                       (!j.contains("serial") || j["serial"].is_number_unsigned()) &&
                       (!j.contains("record") || j["record"] == "realm");
    if (!valid) {
      if (last_unterminated) break;  // written up to a crash
      return InvalidArgument(std::string(source) + " line " + std::to_string(number) +
                             " is not an audit line");
    }
    AuditLine line;
    line.time_ms = j["time_ms"].get<int64_t>();
    line.event = j["event"].get<std::string>();
    line.account = j["account"].get<std::string>();
    if (j.contains("serial")) line.serial = j["serial"].get<uint64_t>();
    if (j.contains("registration") && j["registration"].is_string()) {
      line.registration = j["registration"].get<std::string>();
    }
    if (j.contains("record")) line.record = AuditedRecord::kRealm;
    lines.push_back(std::move(line));
  }
  return lines;
}

Result<ReplayReport> ReplayAuditLog(vaultstore::RecordStore& store,
                                    const crypto::Secret& master_secret,
                                    std::vector<AuditLine> lines, const ReplayOptions& options) {
  ReplayReport report;
  std::stable_sort(lines.begin(), lines.end(),
                   [](const AuditLine& a, const AuditLine& b) { return a.time_ms < b.time_ms; });
  std::map<AuditedRecord, LinesByAccount> by_record;
  for (const AuditLine& line : lines) {
    if (line.time_ms < options.since_ms) continue;
    ++report.lines_considered;
    by_record[line.record][line.account].push_back(&line);
  }
  const crypto::Secret audit_key = VaultService::AuditAccountKey(master_secret);
  const RecordSealer sealer(VaultKeys::Derive(master_secret).record.Clone());
  ReplayContext context{store, audit_key, sealer, options, report};
  CV_RETURN_IF_ERROR(ReplayRecords<AccountRecord>(by_record[AuditedRecord::kAccount], context));
  CV_RETURN_IF_ERROR(ReplayRecords<RealmRecord>(by_record[AuditedRecord::kRealm], context));
  return report;
}

}  // namespace chatvault::vault
