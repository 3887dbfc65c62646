// POST /api/auth/invites/redeem (SPEC section 3): tells a client whether an invite code can be
// redeemed, before it generates keys. Consumes nothing (only registration does), and spends the
// invite-attempt budgets in Redis, fail closed.
#pragma once

#include "config.h"
#include "server.h"

namespace chatalot {

Result<Endpoint> invite_redeem_endpoint(const Config& config);

}  // namespace chatalot
