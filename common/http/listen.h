// Where a handler's listening socket comes from: "unix:PATH" (mode 0660), "HOST:PORT", the
// socket systemd passed (LISTEN_FDS), or, as spawn-fcgi does, a listening socket on fd 0.
#pragma once

#include <string>

#include "core/status.h"

namespace chatalot {

// "" means systemd's socket or fd 0. Returns the descriptor or a Status naming the problem.
Result<int> open_listener(const std::string& spec);

}  // namespace chatalot
