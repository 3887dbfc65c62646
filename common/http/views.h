// The JSON of domain objects that several endpoints answer with, in the Chatalot client's shapes
// (clients/web/src/lib/api/auth.ts, account.ts, admin.ts). One place each, so that a field
// added for the client is added everywhere. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/sessions.h"
#include "http/json_writer.h"

namespace chatalot {

// UserPublic: {id, username, display_name, avatar_url, banner_url, status, custom_status,
// is_admin, is_owner, created_at}. The owner is always shown as an admin.
void write_user_public(JsonWriter& w, const Account& account);

// AuthResponse: {access_token, refresh_token, user: UserPublic[, recovery_code]}.
std::string auth_response_json(const std::string& access_token, const std::string& refresh_token,
                               const Account& account,
                               const std::optional<std::string>& recovery_code);

// {"recovery_code": code}: a new recovery code, shown once.
std::string recovery_code_json(const std::string& code);

}  // namespace chatalot
