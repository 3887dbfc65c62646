// The admin panel's invite API (SPEC section 3, "Admin invites"), one executable for
//   GET  /api/admin/invites        the newest invites, newest first, without their codes
//   POST /api/admin/invites        create one; the answer holds the code, shown this once
//   DELETE /api/admin/invites/{id} revoke one
// Every request needs "Authorization: Bearer <access token>": the token must verify (60 s
// leeway), and its user must still be an admin or the owner in the database, checked on every
// request, so a demoted admin loses access at once.
#pragma once

#include <rapidjson/document.h>

#include <optional>
#include <string_view>

#include "config.h"
#include "invites.h"
#include "server.h"

namespace chatalot {

// Loads the public key (a failure is a configuration error); connects lazily, per thread.
Result<Endpoint> admin_invites_endpoint(const Config& config);

// The POST body as an InviteSpec. Absent and null fields mean "none"; unknown fields are
// ignored. Wrong types first ("max_uses must be an integer or null", "expires_in_hours must be
// an integer or null", "note must be a string or null"; 1.5 and 1.0 are not integers), then the
// ranges of check_invite_spec().
Result<InviteSpec> invite_spec_from_json(const rapidjson::Value& body);

// The token of an Authorization header "Bearer <token>" (the scheme in any letter case, blanks
// around the token allowed); nullopt when the header is missing or has another shape.
std::optional<std::string_view> bearer_token(std::string_view authorization);

}  // namespace chatalot
