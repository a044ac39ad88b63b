// Counting and settling password guesses on a vault record: the rules of the vault's first
// promise (exactly the configured number of guesses), written once for every kind of counted
// record: an account's OPAQUE record (VaultService) and a realm's share of one (RealmService).
//
// A Record provides:
//   State state (kActive, kTombstone, kDeleted);  GuessCounter guesses;
//   const std::array<uint8_t, 16>& registration() const;  // changes with every registration
//   Record Tombstone() const;                              // what is left after a lockout
//
// Each function is one attempt against the store: nullopt means another writer changed the
// record first, and the caller (RetryOnConflict) runs it again on the fresh record.
#pragma once

#include <optional>
#include <string>

#include "chatvault/vault/guess_counter.h"
#include "vault/login_session.h"
#include "vault/vault_core.h"

namespace chatvault::vault {

Status LockedOutStatus();
Status NoAttemptsLeft();
// A realm holds another registration of the account than the request names.
Status AnotherRegistration();

template <typename Record>
struct CountedGuessOutcome {
  enum class Kind { kNoRecord, kCounted, kRepeated };
  Kind kind = Kind::kNoRecord;
  uint64_t serial = 0;
  Record record;  // as stored once the guess is counted
};

template <typename Record>
struct SettledGuessOutcome {
  bool valid = false;
  bool settled_now = false;  // false for a guess already settled (a retried proof)
  Record record;             // as stored afterwards
};

// Destroys the record's secrets at the limit; audited.
template <typename Record>
Status DestroyRecord(VaultCore& core, const std::string& key, const Loaded<Record>& loaded,
                     std::string_view account, std::string_view request_id) {
  auto written = core.Store(key, loaded.version, loaded.record.Tombstone());
  if (!written.ok()) return written.status();
  ++core.metrics().lockouts;
  return core.Audit(AuditEvent(AuditEventKind::kRecordDestroyed, account, request_id));
}

// Counts the guess a request with `digest` makes, durably, before anything is answered; a request
// whose guess is already counted is answered from that guess. kNoRecord for an absent or deleted
// record (the caller answers as for an unknown account). With `expected_registration`, a record
// of another registration is kConflict and counts nothing.
template <typename Record>
Result<std::optional<CountedGuessOutcome<Record>>> CountGuessOnce(
    VaultCore& core, const std::string& key, const RequestDigest& digest, std::string_view account,
    std::string_view request_id, const std::array<uint8_t, 16>* expected_registration = nullptr) {
  using Outcome = CountedGuessOutcome<Record>;
  CV_ASSIGN_OR_RETURN(std::optional<Loaded<Record>> loaded, core.Load<Record>(key));
  if (!loaded || loaded->record.state == Record::State::kDeleted) return std::optional(Outcome{});
  if (loaded->record.state != Record::State::kActive) return LockedOutStatus();
  if (expected_registration && loaded->record.registration() != *expected_registration) {
    return AnotherRegistration();
  }
  const VaultOptions& options = core.options();
  if (const std::optional<uint64_t> counted = loaded->record.guesses.Find(digest)) {
    return std::optional(Outcome{Outcome::Kind::kRepeated, *counted, std::move(loaded->record)});
  }
  if (loaded->record.guesses.failed() >= options.max_guesses) {
    // No new guess. The record goes once no counted guess can still be answered or settled.
    if (loaded->record.guesses.HasOpenGuess(core.Now(), options.login_ttl)) {
      (void)core.Audit(AuditEvent(AuditEventKind::kNoAttemptsLeft, account, request_id));
      return NoAttemptsLeft();
    }
    Status s = DestroyRecord(core, key, *loaded, account, request_id);
    if (s.code() == Code::kConflict) return std::optional<Outcome>();
    CV_RETURN_IF_ERROR(s);
    return LockedOutStatus();
  }
  Record counted = std::move(loaded->record);
  const uint64_t serial = counted.guesses.Count(digest, core.Now(), options.max_guesses);
  auto written = core.Store(key, loaded->version, counted);
  if (!written.ok()) {
    if (written.status().code() == Code::kConflict) return std::optional<Outcome>();
    return Unavailable("the vault could not record this attempt; try the same request again");
  }
  ++core.metrics().guesses_counted;
  return std::optional(Outcome{Outcome::Kind::kCounted, serial, std::move(counted)});
}

// Settles the guess a login session counted. `is_valid(record)` says whether the client proved the
// password (a valid KE3, a realm unlock proof). A valid proof settles this guess and every
// earlier one, once; a wrong one closes the guess, and destroys the record when it was the last
// open guess at the limit (kLockedOut).
template <typename Record, typename Valid>
Result<std::optional<SettledGuessOutcome<Record>>> SettleGuessOnce(VaultCore& core,
                                                                   const std::string& key,
                                                                   const LoginSession& session,
                                                                   Valid is_valid,
                                                                   std::string_view request_id) {
  using Outcome = SettledGuessOutcome<Record>;
  CV_ASSIGN_OR_RETURN(std::optional<Loaded<Record>> loaded, core.Load<Record>(key));
  if (loaded && loaded->record.state == Record::State::kTombstone) return LockedOutStatus();
  if (!loaded || loaded->record.state != Record::State::kActive ||
      loaded->record.registration() != session.generation ||
      session.serial > loaded->record.guesses.guess_serial()) {
    return Conflict("the vault record changed during this login; start again");
  }
  const VaultOptions& options = core.options();
  GuessCounter& guesses = loaded->record.guesses;
  const bool valid = is_valid(loaded->record);
  bool changed = false;
  if (valid) {
    changed = guesses.Settle(session.serial);
  } else {
    changed = guesses.Close(session.serial);
    if (guesses.failed() >= options.max_guesses &&
        !guesses.HasOpenGuess(core.Now(), options.login_ttl)) {
      CV_RETURN_IF_ERROR(
          core.Audit(AuditEvent(AuditEventKind::kWrongPassword, session.account, request_id)
                         .Guess(session.serial, 0)));
      Status s = DestroyRecord(core, key, *loaded, session.account, request_id);
      if (s.code() == Code::kConflict) return std::optional<Outcome>();
      CV_RETURN_IF_ERROR(s);
      ++core.metrics().wrong_passwords;
      return LockedOutStatus();
    }
  }
  if (changed) {
    auto written = core.Store(key, loaded->version, loaded->record);
    if (!written.ok()) {
      if (written.status().code() == Code::kConflict) return std::optional<Outcome>();
      return Unavailable("the vault could not save this login; try the same request again");
    }
  }
  ++(valid ? core.metrics().recoveries : core.metrics().wrong_passwords);
  AuditEvent event(valid ? AuditEventKind::kLoginSettled : AuditEventKind::kWrongPassword,
                   session.account, request_id);
  event.Guess(session.serial, guesses.AttemptsLeft(options.max_guesses));
  if (valid && !changed) event.Because("already settled");
  CV_RETURN_IF_ERROR(core.Audit(event));
  return std::optional(Outcome{valid, valid && changed, std::move(loaded->record)});
}

}  // namespace chatvault::vault
