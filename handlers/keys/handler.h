// POST /api/keys/register (SPEC section 3, "Keys"): the bearer, then the registration's key
// checks and messages, then the account's identity key, signed prekey and one-time prekeys
// replaced in one transaction (core/account.h register_keys()); 200 {}.
#pragma once

#include "config/config.h"
#include "http/server.h"

namespace chatalot {

// Loads the public key (a failure is a configuration error); connects lazily, per thread.
Result<Endpoint> keys_endpoint(const Config& config);

}  // namespace chatalot
