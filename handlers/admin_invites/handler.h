// The admin panel's invite API (SPEC section 3, "Admin invites"), one executable for
//   GET  /api/admin/invites        the newest invites, newest first, without their codes
//   POST /api/admin/invites        create one; the answer holds the code, shown this once
//   DELETE /api/admin/invites/{id} revoke one
// The handler routes the path and the method, then authorize_admin() (core/auth.h) checks the
// bearer token and the database's word on the user's roles on every request, then the invite
// operation (core/invites.h) runs and the invite is rendered.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "core/invites.h"
#include "http/json_writer.h"
#include "http/server.h"

namespace chatalot {

// Loads the public key (a failure is a configuration error); connects lazily, per thread.
Result<Endpoint> admin_invites_endpoint(const Config& config);

// The admin API's invite object: {"id", "code" (only when given), "code_hint", "created_by",
// "max_uses", "used_count", "expires_at", "created_at", "note", "revoked_at"}, nulls where absent.
void write_invite_json(JsonWriter& w, const Invite& invite,
                       std::optional<std::string_view> code = std::nullopt);

}  // namespace chatalot
