// POST /api/auth/invites/redeem (SPEC section 3): parse the request, call check_invite()
// (core/invites.h), render {"valid":true,"expires_at":...,"uses_remaining":...}. Consumes
// nothing (only registration does) and spends the invite-attempt budgets in Redis, fail closed.
#pragma once

#include <string>

#include "config/config.h"
#include "core/invites.h"
#include "http/server.h"

namespace chatalot {

Result<Endpoint> invite_redeem_endpoint(const Config& config);

std::string usable_invite_json(const UsableInvite& invite);

}  // namespace chatalot
