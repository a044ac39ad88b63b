#include "chatvault/vault/guess_counter.h"

#include <algorithm>
#include <cstring>

#include "chatvault/crypto/hash.h"

namespace chatvault::vault {
namespace {

uint32_t Remaining(uint64_t spent, uint32_t max_guesses) {
  return spent >= max_guesses ? 0 : static_cast<uint32_t>(max_guesses - spent);
}

constexpr size_t kEntrySize = kRequestDigestSize + 8 + 8 + 1;

}  // namespace

RequestDigest DigestOfRequest(ByteView request) {
  const Bytes digest = crypto::Sha256(request);
  RequestDigest out{};
  std::copy_n(digest.begin(), out.size(), out.begin());
  return out;
}

uint32_t GuessCounter::AttemptsLeft(uint32_t max_guesses) const {
  return Remaining(failed(), max_guesses);
}

uint32_t GuessCounter::AttemptsIfWrong(uint64_t serial, uint32_t max_guesses) const {
  return Remaining(serial > settled_serial_ ? serial - settled_serial_ : 0, max_guesses);
}

std::optional<uint64_t> GuessCounter::Find(const RequestDigest& digest) const {
  for (const CountedGuess& guess : recent_) {
    if (guess.digest == digest) return guess.serial;
  }
  return std::nullopt;
}

uint64_t GuessCounter::Count(const RequestDigest& digest, int64_t now_unix, size_t keep) {
  guess_serial_ += 1;
  recent_.push_back(CountedGuess{digest, guess_serial_, now_unix, true});
  keep = std::min(std::max<size_t>(keep, 1), kMaxRecentGuesses);
  if (recent_.size() > keep) {
    recent_.erase(recent_.begin(), recent_.end() - static_cast<ptrdiff_t>(keep));
  }
  return guess_serial_;
}

bool GuessCounter::Close(uint64_t serial) {
  for (CountedGuess& guess : recent_) {
    if (guess.serial == serial && guess.open) {
      guess.open = false;
      return true;
    }
  }
  return false;
}

bool GuessCounter::Settle(uint64_t serial) {
  if (serial <= settled_serial_ || serial > guess_serial_) return false;
  settled_serial_ = serial;
  Close(serial);
  return true;
}

bool GuessCounter::HasOpenGuess(int64_t now_unix, std::chrono::seconds ttl) const {
  return std::any_of(recent_.begin(), recent_.end(), [&](const CountedGuess& guess) {
    return guess.open && guess.serial > settled_serial_ &&
           guess.counted_unix + ttl.count() >= now_unix;
  });
}

void GuessCounter::Serialize(Bytes& out) const {
  AppendU64BE(out, guess_serial_);
  AppendU64BE(out, settled_serial_);
  out.push_back(static_cast<uint8_t>(recent_.size()));
  for (const CountedGuess& guess : recent_) {
    Append(out, guess.digest);
    AppendU64BE(out, guess.serial);
    AppendU64BE(out, static_cast<uint64_t>(guess.counted_unix));
    out.push_back(guess.open ? 1 : 0);
  }
}

Result<GuessCounter> GuessCounter::Parse(ByteView in, size_t* at) {
  const Status short_record = Corrupted("a guess counter is truncated");
  if (in.size() - *at < 17) return short_record;
  GuessCounter c;
  c.guess_serial_ = ReadU64BE(in.data() + *at);
  c.settled_serial_ = ReadU64BE(in.data() + *at + 8);
  const size_t count = in[*at + 16];
  *at += 17;
  if (c.settled_serial_ > c.guess_serial_) return Corrupted("a guess counter is inconsistent");
  if (count > kMaxRecentGuesses) return Corrupted("a guess counter lists too many guesses");
  if (in.size() - *at < count * kEntrySize) return short_record;
  for (size_t i = 0; i < count; ++i) {
    CountedGuess guess;
    const uint8_t* p = in.data() + *at;
    std::memcpy(guess.digest.data(), p, kRequestDigestSize);
    guess.serial = ReadU64BE(p + kRequestDigestSize);
    guess.counted_unix = static_cast<int64_t>(ReadU64BE(p + kRequestDigestSize + 8));
    guess.open = p[kRequestDigestSize + 16] == 1;
    c.recent_.push_back(guess);
    *at += kEntrySize;
  }
  return c;
}

void GuessCounter::ReplayNumbers(uint64_t guess_serial, uint64_t settled_serial) {
  guess_serial_ = guess_serial;
  settled_serial_ = std::min(settled_serial, guess_serial);
}

}  // namespace chatvault::vault
