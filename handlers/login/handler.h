// POST /api/auth/login (SPEC section 3, "Sessions"): parse the request, call login()
// (core/sessions.h), render the Chatalot AuthResponse without its recovery code.
#pragma once

#include "config/config.h"
#include "http/server.h"

namespace chatalot {

// Loads the signing key (a failure is a configuration error); connects lazily, per thread.
Result<Endpoint> login_endpoint(const Config& config);

}  // namespace chatalot
