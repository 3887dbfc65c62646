// The admin's user management (SPEC section 3, "Admin users"), shared by the admin API and the
// CLI: the user list with its search, the admin flag, suspension. Who may do what:
//   - the admin flag: only the owner (or the server's shell); the owner's own cannot be removed;
//   - suspension: never the owner; an admin only by the owner (or the shell).
// Every change is audited with its actor (nullopt: the shell) and the request id.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/sessions.h"
#include "core/status.h"

namespace chatalot {

struct UserQuery {
  std::string search;  // plain text, matched ignoring case in username, display name, e-mail
  int limit = 50;      // 1..100
  std::int64_t offset = 0;
};

// GET /api/admin/users?search=&limit=&offset= from a raw query string (percent-encoded, '+' a
// blank); unknown parameters are ignored, the last of a repeated one counts. 400 naming the
// parameter: Msg::kSearchParam, kLimitParam, kOffsetParam.
Result<UserQuery> user_query_from(std::string_view query_string);

// Who acts: an admin (id, and whether the owner), or the server's shell (no id, the owner's
// powers).
struct Actor {
  std::optional<std::string> id;
  bool is_owner = false;
  static Actor shell() { return {std::nullopt, true}; }
};

class UserAdminStore {
 public:
  virtual ~UserAdminStore() = default;
  virtual Result<std::vector<Account>> list(const UserQuery& query) = 0;
  // By id (a canonical UUID), or by username ignoring case; nullopt when none.
  virtual Result<std::optional<Account>> find_by_id(std::string_view id) = 0;
  virtual Result<std::optional<Account>> find_by_username(std::string_view username) = 0;
  // Sets the flag (never removing an owner's), audited; false when no such user.
  virtual Result<bool> set_admin(std::string_view id, bool is_admin, const Actor& actor,
                                 std::string_view request_id) = 0;
  // One transaction: suspended (keeping the first time, the reason replaced), every session
  // ended, audited; false when no such user or the user is the owner.
  virtual Result<bool> suspend(std::string_view id, const std::optional<std::string>& reason,
                               const Actor& actor, std::string_view request_id) = 0;
  virtual Result<bool> unsuspend(std::string_view id, const Actor& actor,
                                 std::string_view request_id) = 0;
};

// The search text as decoded (the API's query, the CLI's --search): trimmed; Msg::kSearchParam
// unless it is UTF-8 of at most 100 characters without NUL.
Result<std::string> checked_search(std::string_view search);

// A suspension reason: Msg::kReasonRange unless it is UTF-8 of at most 500 characters without
// control or bidirectional characters (it is shown to admins, in the panel and the CLI).
Status check_suspension_reason(std::string_view reason);

// The reason of a suspension, from the body {"reason": string|null}: absent or null is none;
// Msg::kReasonType, then check_suspension_reason().
Result<std::optional<std::string>> suspension_reason(std::string_view body);

// PUT /api/admin/users/{id}/admin. 404 Msg::kUserNotFound (ids that are no UUID included),
// 403 Msg::kOwnerOnlyChangesAdmins, kOwnerAlwaysAdmin.
Status set_admin(const Actor& actor, std::string_view id, bool is_admin, std::string_view request_id,
                 UserAdminStore& users);

// POST /api/admin/users/{id}/suspend and /unsuspend. 404 Msg::kUserNotFound, 403
// Msg::kOwnerNotSuspendable, kOwnerOnlySuspendsAdmins.
Status suspend_user(const Actor& actor, std::string_view id, const std::optional<std::string>& reason,
                    std::string_view request_id, UserAdminStore& users);
Status unsuspend_user(const Actor& actor, std::string_view id, std::string_view request_id,
                      UserAdminStore& users);

}  // namespace chatalot
