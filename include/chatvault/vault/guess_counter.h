// The guess counter of one vault record (an account's record, or a realm's share of one): the
// state behind the vault's first promise, exactly the configured number of guesses.
//
// Guesses are numbered. guess_serial is the number of the newest counted guess, settled_serial
// that of the newest one a valid proof of the password settled (a valid KE3, a realm unlock):
// everything up to it is settled, everything after it still counts. A counted guess also
// remembers a digest of the request that spent it, so a retried request is answered from the
// guess it already spent; and it stays open until settled, proven wrong, or past its session's
// lifetime, so at the limit the record is destroyed only once no counted guess can still be
// answered or settled.
//
// This is a value type with no I/O: a service reads a record, changes its counter, and writes it
// back with a compare-and-set.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

#include "chatvault/common/bytes.h"
#include "chatvault/common/status.h"

namespace chatvault::vault {

inline constexpr size_t kRequestDigestSize = 16;
inline constexpr size_t kMaxRecentGuesses = 100;

using RequestDigest = std::array<uint8_t, kRequestDigestSize>;

// The first 16 bytes of SHA-256 of a request's guess-bearing part (a KE1, a blinded element).
RequestDigest DigestOfRequest(ByteView request);

struct CountedGuess {
  RequestDigest digest{};
  uint64_t serial = 0;
  int64_t counted_unix = 0;
  bool open = true;
};

class GuessCounter {
 public:
  uint64_t guess_serial() const { return guess_serial_; }
  uint64_t settled_serial() const { return settled_serial_; }
  const std::vector<CountedGuess>& recent() const { return recent_; }

  // Guesses counted and not settled.
  uint64_t failed() const { return guess_serial_ - settled_serial_; }
  // Tries left now.
  uint32_t AttemptsLeft(uint32_t max_guesses) const;
  // Tries left if guess `serial` turns out wrong, counting only the guesses up to it: what the
  // answer to its request says, also when a retry of that request is answered later.
  uint32_t AttemptsIfWrong(uint64_t serial, uint32_t max_guesses) const;

  // The serial of the guess a request with `digest` already spent, if it is still remembered.
  std::optional<uint64_t> Find(const RequestDigest& digest) const;
  // Counts the next guess for `digest`; keeps the newest `keep` requests. Returns its serial.
  uint64_t Count(const RequestDigest& digest, int64_t now_unix, size_t keep);
  // Guess `serial` was proven wrong. False when it was not open (nothing to write).
  bool Close(uint64_t serial);
  // Guess `serial` was proven right: it and every earlier one are settled. False when they
  // already were (a retried proof: nothing to write).
  bool Settle(uint64_t serial);
  // A counted guess that may still be answered or settled: open, after the newest settled one,
  // and younger than `ttl`.
  bool HasOpenGuess(int64_t now_unix, std::chrono::seconds ttl) const;

  // Sets the numbers to what the audit log says happened after a store snapshot (keyvaultd
  // audit-replay); settled_serial is capped at guess_serial. The remembered requests stay: a
  // retry of one is still answered from its guess.
  void ReplayNumbers(uint64_t guess_serial, uint64_t settled_serial);

  void Serialize(Bytes& out) const;
  // Reads what Serialize wrote from `in` at `*at`, advancing it.
  static Result<GuessCounter> Parse(ByteView in, size_t* at);

 private:
  uint64_t guess_serial_ = 0;
  uint64_t settled_serial_ = 0;
  std::vector<CountedGuess> recent_;  // oldest first
};

}  // namespace chatvault::vault
