// What a realm answers for an account it holds nothing for (docs/REALMS.md, "Accounts a realm
// does not hold"): a share made up from the account under the realm's secret, the same at every
// request, with every field and size of a registered one, so that the version and evaluation
// routes do not tell an outsider which accounts the realm holds. It is never stored, counts no
// guess (as the single vault's fake KE2) and can never be unlocked.
#pragma once

#include <string_view>

#include "chatvault/common/status.h"
#include "chatvault/opaque/ksf.h"
#include "chatvault/vaultproto/realm_protocol.h"

namespace chatvault::vault {

class VaultCore;

// The public half of the made-up share (what Version and Evaluate show) and the OPRF share that
// evaluates; the secrets a real share releases at unlock are left empty.
Result<vaultproto::realm::RealmShare> FakeShare(const VaultCore& core, std::string_view account,
                                                const opaque::KsfParams& ksf);

}  // namespace chatvault::vault
