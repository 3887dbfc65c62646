// POST /api/auth/logout (SPEC section 3, "Sessions"): ends the session of the refresh token in
// the body, idempotently; 200 {}. Needs PostgreSQL only.
#pragma once

#include "config/config.h"
#include "http/server.h"

namespace chatalot {

// Connects lazily, per thread.
Result<Endpoint> logout_endpoint(const Config& config);

}  // namespace chatalot
