// Bearer access tokens on requests (SPEC section 3, "Bearer rules"): the Authorization header's
// token, its verification, and the database's word on the user (exists, not suspended, roles),
// asked on every request so that a demoted admin loses access and a suspended account is
// refused at once.
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
  bool suspended = false;
};

class UserDirectory {
 public:
  virtual ~UserDirectory() = default;
  // The user's roles and suspension now; nullopt when no such user exists. user_id is a
  // canonical UUID.
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

// Who calls: the token's user and session, with the database's roles.
struct Caller {
  std::string user_id;
  std::string session_id;  // the token's sid; "" for tokens issued before sessions existed
  Roles roles;
};

// 401 (Msg::kTokenMissing, kTokenInvalid, kTokenExpired; an unknown user, or a sub or sid that
// is not a UUID, is kTokenInvalid, refused before any SQL runs), 403 Msg::kAccountSuspended,
// or the directory's failure.
Result<Caller> authenticate(std::string_view authorization, AuthDeps& deps);

// authenticate(), then 403 Msg::kAdminRequired unless the caller is an admin or the owner.
Result<Caller> authorize_admin(std::string_view authorization, AuthDeps& deps);

}  // namespace chatalot
