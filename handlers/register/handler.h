// POST /api/auth/register (SPEC section 3): parse the request, call register_account()
// (core/registration.h), render the Chatalot AuthResponse. Also applies ADMIN_USERNAME when
// the process starts (or on the first request that reaches PostgreSQL, if it was away then).
#pragma once

#include <string>

#include "config/config.h"
#include "core/registration.h"
#include "http/server.h"

namespace chatalot {

// Loads the signing key (a failure is a configuration error); connects lazily, per thread.
Result<Endpoint> register_endpoint(const Config& config);

// The AuthResponse: {"access_token","refresh_token","user":{...},"recovery_code"}.
std::string registered_json(const Registered& r);

}  // namespace chatalot
