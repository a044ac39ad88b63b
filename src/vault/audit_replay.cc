#include "chatvault/vault/audit_replay.h"

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "chatvault/vault/account_record.h"
#include "chatvault/vault/audit_log.h"
#include "chatvault/vault/vault_service.h"
#include "vault/sealed_box.h"

namespace chatvault::vault {
namespace {

constexpr std::string_view kAccountPrefix = "acct/";
constexpr int kCasRetries = 16;

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
std::optional<AccountRecord> Replayed(const AccountRecord& restored, const AccountHistory& history,
                                      std::string& what) {
  using State = AccountRecord::State;
  if (history.end == AccountHistory::End::kDeleted) {
    if (restored.state == State::kDeleted) return std::nullopt;
    AccountRecord deleted;
    deleted.state = State::kDeleted;
    what = "deleted again: its owner deleted it after the snapshot";
    return deleted;
  }
  if (!restored.active()) {  // tombstones and deletions stay as they are
    if (history.registered_again) what = "registered again after the snapshot";
    return std::nullopt;
  }
  if (history.end == AccountHistory::End::kDestroyed) {
    AccountRecord tomb;
    tomb.state = State::kTombstone;
    tomb.generation = restored.generation;
    tomb.guesses = restored.guesses;
    tomb.device_key = restored.device_key;
    what = "destroyed again: it reached the guess limit after the snapshot";
    return tomb;
  }
  AccountRecord record = restored;
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
                       (!j.contains("serial") || j["serial"].is_number_unsigned());
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
  std::map<std::string, std::vector<const AuditLine*>> by_account;
  for (const AuditLine& line : lines) {
    if (line.time_ms < options.since_ms) continue;
    ++report.lines_considered;
    by_account[line.account].push_back(&line);
  }
  // The log names accounts by a keyed hash; the store's keys name them in clear.
  const crypto::Secret audit_key = VaultService::AuditAccountKey(master_secret);
  CV_ASSIGN_OR_RETURN(std::vector<std::string> keys, store.ListKeys(kAccountPrefix));
  std::map<std::string, std::string> key_of_hash;
  for (const std::string& key : keys) {
    key_of_hash[JsonLinesAuditLog::AccountHash(audit_key, key.substr(kAccountPrefix.size()))] = key;
  }
  const RecordSealer sealer(VaultKeys::Derive(master_secret).record.Clone());
  for (const auto& [hash, account_lines] : by_account) {
    AccountHistory history;
    if (!Fold(account_lines, "", history)) continue;
    ++report.accounts_in_log;
    auto found = key_of_hash.find(hash);
    if (found == key_of_hash.end()) {
      ++report.not_in_store;
      report.changes.push_back({hash,
                                "not in the restored store (registered after the "
                                "snapshot): its user must register again"});
      continue;
    }
    const std::string& key = found->second;
    for (int attempt = 0;; ++attempt) {
      if (attempt == kCasRetries) return Unavailable("the record " + hash + " kept changing");
      CV_ASSIGN_OR_RETURN(std::optional<vaultstore::Versioned> stored, store.Get(key));
      if (!stored) break;
      CV_ASSIGN_OR_RETURN(Bytes plain, sealer.Open(key, stored->value));
      CV_ASSIGN_OR_RETURN(AccountRecord restored, AccountRecord::Parse(plain));
      history = AccountHistory{};
      Fold(account_lines, HexEncode(restored.generation), history);
      std::string what;
      std::optional<AccountRecord> replayed = Replayed(restored, history, what);
      if (!replayed) {
        if (!what.empty()) {
          ++report.registered_again;
          report.changes.push_back({hash, what + ": restored as it was before, which the "
                                                 "user's current password does not open"});
        }
        break;
      }
      if (!options.dry_run) {
        CV_ASSIGN_OR_RETURN(Bytes sealed, sealer.Seal(key, replayed->Serialize()));
        auto written = store.CompareAndSet(key, stored->version, sealed);
        if (!written.ok() && written.status().code() == Code::kConflict) continue;
        CV_RETURN_IF_ERROR(written.status());
      }
      if (replayed->state == AccountRecord::State::kTombstone) {
        ++report.destroyed;
      } else if (replayed->state == AccountRecord::State::kDeleted) {
        ++report.deleted;
      } else if (replayed->guesses.failed() > restored.guesses.failed()) {
        ++report.counters_raised;
      } else {
        ++report.counters_lowered;
      }
      if (history.registered_again && replayed->active()) {
        ++report.registered_again;
        what +=
            " (registered again after the snapshot: restored with its older registration, "
            "which the user's current password does not open)";
      }
      report.changes.push_back({hash, what});
      break;
    }
  }
  return report;
}

}  // namespace chatvault::vault
