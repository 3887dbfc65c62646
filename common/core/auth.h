// Bearer access tokens on requests (SPEC section 3, admin API): the Authorization header's
// token, its verification, and the database's word on the user's roles, asked on every
// request so that a demoted admin loses access at once.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/ports.h"
#include "core/status.h"

namespace chatalot {

struct Roles {
  bool is_admin = false;
  bool is_owner = false;
};

class UserDirectory {
 public:
  virtual ~UserDirectory() = default;
  // The user's roles now; nullopt when no such user exists. user_id is a canonical UUID.
  virtual Result<std::optional<Roles>> roles(std::string_view user_id) = 0;
};

// The token of an Authorization header "Bearer <token>" (the scheme in any letter case, blanks
// around the token allowed); nullopt when the header is missing or has another shape.
std::optional<std::string_view> bearer_token(std::string_view authorization);

struct AuthDeps {
  const TokenVerifier& verifier;
  const Clock& clock;
  UserDirectory& users;
};

// The admin's user id: 401 (Msg::kTokenMissing, kTokenInvalid, kTokenExpired; an unknown user
// or a sub that is not a UUID is kTokenInvalid, refused before any SQL runs), 403
// (Msg::kAdminRequired), or the directory's failure.
Result<std::string> authorize_admin(std::string_view authorization, AuthDeps& deps);

}  // namespace chatalot
