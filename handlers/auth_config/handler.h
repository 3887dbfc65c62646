// GET/HEAD /api/auth/config: the registration mode, for clients to show or hide the invite
// field. The body is built once from the configuration; no database, no Redis.
#pragma once

#include <string>

#include "config/config.h"
#include "http/server.h"

namespace chatalot {

std::string auth_config_body(const Config& config);
Endpoint auth_config_endpoint(const Config& config);

}  // namespace chatalot
