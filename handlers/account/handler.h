// The account's own endpoints (SPEC section 3, "The session lifecycle"), one executable for
//   GET    /api/account/me                         the account (UserPublic)
//   GET    /api/account/sessions                   its live sessions (SessionInfo), newest first
//   DELETE /api/account/sessions/{id}              ends one
//   POST   /api/account/logout-all                 ends all: {"revoked_count": N}
//   PUT    /api/account/password                   changes the password, ends the other sessions
//   POST   /api/account/regenerate-recovery-code   a new recovery code, shown once
// They share their dependencies (the bearer check, PostgreSQL; Redis and Argon2id for the
// password change) and their load is light, so one pool serves them. Path (404), method (405),
// then the bearer (401/403), then the body (400); the operations are core/account.h's.
#pragma once

#include "config/config.h"
#include "http/server.h"

namespace chatalot {

// Loads the public key (a failure is a configuration error); connects lazily, per thread.
Result<Endpoint> account_endpoint(const Config& config);

}  // namespace chatalot
