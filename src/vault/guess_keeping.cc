#include "vault/guess_keeping.h"

namespace chatvault::vault {

Status LockedOutStatus() {
  return LockedOut("too many wrong passwords: this account's vault record was destroyed");
}

Status AnotherRegistration() {
  return Conflict("this realm holds another registration of this account now; start again");
}

Status NoAttemptsLeft() {
  return LockedOut(
      "this account has no attempts left; its vault record is destroyed once the "
      "logins already counted are over");
}

}  // namespace chatvault::vault
