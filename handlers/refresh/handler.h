// POST /api/auth/refresh (SPEC section 3, "Sessions"): parse the request, call refresh()
// (core/sessions.h), render {"access_token","refresh_token"}. Needs no Redis: refresh tokens
// carry 256 bits, so there is nothing to guess, and reuse is detected in the database.
#pragma once

#include "config/config.h"
#include "http/server.h"

namespace chatalot {

// Loads the signing key (a failure is a configuration error); connects lazily, per thread.
Result<Endpoint> refresh_endpoint(const Config& config);

}  // namespace chatalot
