// POST /api/auth/register (SPEC section 3): validation, a read-only look at uniqueness and the
// invite, the password hash outside any transaction, then one transaction that creates the
// account with its keys, consumes the invite, claims ownership of a fresh instance, stores the
// refresh token and the audit record. Returns the Chatalot AuthResponse.
#pragma once

#include "config.h"
#include "server.h"

namespace chatalot {

// Loads the signing key (a failure is a configuration error); connects lazily, per thread.
Result<Endpoint> register_endpoint(const Config& config);

}  // namespace chatalot
