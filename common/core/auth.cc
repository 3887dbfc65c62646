#include "core/auth.h"

#include "core/text.h"

namespace chatalot {
namespace {

bool is_blank(char c) { return c == ' ' || c == '\t'; }

Status invalid_token() { return {Code::kUnauthenticated, Msg::kTokenInvalid}; }

}  // namespace

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  while (!authorization.empty() && is_blank(authorization.front())) authorization.remove_prefix(1);
  while (!authorization.empty() && is_blank(authorization.back())) authorization.remove_suffix(1);
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() || !is_blank(authorization[kScheme.size()]) ||
      ascii_lower(authorization.substr(0, kScheme.size())) != kScheme) {
    return std::nullopt;
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && is_blank(token.front())) token.remove_prefix(1);
  for (const char c : token) {
    if (is_blank(c)) return std::nullopt;
  }
  return token;  // not empty: the blanks around it were trimmed and the header is longer
}

Result<Caller> authenticate(std::string_view authorization, AuthDeps& deps) {
  const std::optional<std::string_view> token = bearer_token(authorization);
  if (!token) return Status(Code::kUnauthenticated, Msg::kTokenMissing);
  Result<AccessClaims> claims = deps.verifier.verify(*token, deps.clock.now_seconds());
  if (!claims.is_ok()) return claims.status();
  // A signed token with a sub that is no UUID was not issued by us for a user; casting it in
  // SQL would be an error, and that must not turn into a 500.
  if (!is_uuid(claims->sub) || (!claims->sid.empty() && !is_uuid(claims->sid))) {
    return invalid_token();
  }
  // The token's claims may be up to 15 minutes old, the database is not.
  Result<std::optional<Roles>> roles = deps.users.roles(claims->sub);
  if (!roles.is_ok()) return roles.status();
  if (!roles->has_value()) return invalid_token();
  if ((*roles)->suspended) return Status(Code::kPermissionDenied, Msg::kAccountSuspended);
  return Caller{std::move(claims->sub), std::move(claims->sid), **roles};
}

Result<Caller> authorize_admin(std::string_view authorization, AuthDeps& deps) {
  Result<Caller> caller = authenticate(authorization, deps);
  if (!caller.is_ok()) return caller;
  if (!caller->roles.is_admin && !caller->roles.is_owner) {
    return Status(Code::kPermissionDenied, Msg::kAdminRequired);
  }
  return caller;
}

}  // namespace chatalot
