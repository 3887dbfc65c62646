// The admin panel's user management (SPEC section 3, "Admin users"), one executable for
//   GET  /api/admin/users?search=&limit=&offset=   the users (AdminUser), newest first
//   PUT  /api/admin/users/{id}/admin               {"is_admin": bool}: the owner only
//   POST /api/admin/users/{id}/suspend             {"reason": string|null}
//   POST /api/admin/users/{id}/unsuspend
// Path (404), method (405), then authorize_admin() (core/auth.h), then the query or body
// (400), then the operation of core/users.h.
#pragma once

#include "config/config.h"
#include "core/sessions.h"
#include "http/json_writer.h"
#include "http/server.h"

namespace chatalot {

// Loads the public key (a failure is a configuration error); connects lazily, per thread.
Result<Endpoint> admin_users_endpoint(const Config& config);

// The Chatalot AdminUser: id, username, display_name, email, avatar_url, is_admin, is_owner,
// suspended_at, suspended_reason, created_at, groups [], communities [], and invite_id.
void write_admin_user_json(JsonWriter& w, const Account& user);

}  // namespace chatalot
