#pragma once

#include "config.h"
#include "server.h"

namespace chatalot {

Result<Endpoint> invite_redeem_endpoint(const Config& config);

}  // namespace chatalot
