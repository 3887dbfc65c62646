#pragma once

#include "config.h"
#include "server.h"

namespace chatalot {

Result<Endpoint> admin_invites_endpoint(const Config& config);

}  // namespace chatalot
