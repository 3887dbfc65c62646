// POST /api/auth/recover (SPEC section 3, "Sessions"): parse the request, call recover()
// (core/sessions.h), render {"recovery_code"}. Holds no signing key: its answer has no token,
// the client logs in with the new password afterwards.
#pragma once

#include "config/config.h"
#include "http/server.h"

namespace chatalot {

// Connects lazily, per thread.
Result<Endpoint> recover_endpoint(const Config& config);

}  // namespace chatalot
