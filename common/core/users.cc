#include "core/users.h"

#include "core/json.h"
#include "core/query.h"
#include "core/text.h"

namespace chatalot {
namespace {

constexpr std::size_t kMaxSearchCodePoints = 100;
constexpr std::size_t kMaxReasonCodePoints = 500;
constexpr int kMaxLimit = 100;
constexpr std::int64_t kMaxOffset = 1'000'000'000;

Status user_not_found() { return {Code::kNotFound, Msg::kUserNotFound}; }

// The target, or 404 (an id that is no UUID is no user's).
Result<Account> target(std::string_view id, UserAdminStore& users) {
  if (!is_uuid(id)) return user_not_found();
  Result<std::optional<Account>> found = users.find_by_id(id);
  if (!found.is_ok()) return found.status();
  if (!found->has_value()) return user_not_found();
  return std::move(**found);
}

// Suspension either way: never the owner; an admin only by the owner.
Status may_suspend(const Actor& actor, const Account& user) {
  if (user.is_owner) return {Code::kPermissionDenied, Msg::kOwnerNotSuspendable};
  if (user.is_admin && !actor.is_owner) return {Code::kPermissionDenied, Msg::kOwnerOnlySuspendsAdmins};
  return Status::ok();
}

Status found_or_404(const Result<bool>& changed) {
  if (!changed.is_ok()) return changed.status();
  return *changed ? Status::ok() : user_not_found();
}

}  // namespace

Result<std::string> checked_search(std::string_view search) {
  // A NUL cannot travel to PostgreSQL as text.
  if (!is_valid_utf8(search) || count_code_points(search) > kMaxSearchCodePoints ||
      search.find('\0') != std::string_view::npos) {
    return invalid_argument(Msg::kSearchParam);
  }
  return std::string(trim_ascii(search));
}

Status check_suspension_reason(std::string_view reason) {
  // Nothing that garbles or disguises it where admins read it.
  if (!is_valid_utf8(reason) || count_code_points(reason) > kMaxReasonCodePoints ||
      has_control_or_bidi(reason)) {
    return invalid_argument(Msg::kReasonRange);
  }
  return Status::ok();
}

Result<UserQuery> user_query_from(std::string_view query_string) {
  UserQuery query;
  Result<std::optional<std::string>> search = query_parameter(query_string, "search", Msg::kSearchParam);
  if (!search.is_ok()) return search.status();
  if (*search) {
    Result<std::string> checked = checked_search(**search);
    if (!checked.is_ok()) return checked.status();
    query.search = std::move(checked).value();
  }
  Result<std::optional<std::string>> limit = query_parameter(query_string, "limit", Msg::kLimitParam);
  if (!limit.is_ok()) return limit.status();
  if (*limit) {
    const std::optional<int> n = parse_integer<int>(**limit);
    if (!n || *n < 1 || *n > kMaxLimit) return invalid_argument(Msg::kLimitParam);
    query.limit = *n;
  }
  Result<std::optional<std::string>> offset = query_parameter(query_string, "offset", Msg::kOffsetParam);
  if (!offset.is_ok()) return offset.status();
  if (*offset) {
    const std::optional<std::int64_t> n = parse_integer<std::int64_t>(**offset);
    if (!n || *n < 0 || *n > kMaxOffset) return invalid_argument(Msg::kOffsetParam);
    query.offset = *n;
  }
  return query;
}

Result<std::optional<std::string>> suspension_reason(std::string_view body) {
  Result<rapidjson::Document> doc = parse_json_object(body);
  if (!doc.is_ok()) return doc.status();
  const auto it = doc->FindMember("reason");
  if (it == doc->MemberEnd() || it->value.IsNull()) return std::optional<std::string>();
  if (!it->value.IsString()) return invalid_argument(Msg::kReasonType);
  std::string reason(it->value.GetString(), it->value.GetStringLength());
  CHATALOT_RETURN_IF_ERROR(check_suspension_reason(reason));
  return std::optional<std::string>(std::move(reason));
}

Status set_admin(const Actor& actor, std::string_view id, bool is_admin, std::string_view request_id,
                 UserAdminStore& users) {
  Result<Account> user = target(id, users);
  if (!user.is_ok()) return user.status();
  if (!actor.is_owner) return {Code::kPermissionDenied, Msg::kOwnerOnlyChangesAdmins};
  if (user->is_owner && !is_admin) return {Code::kPermissionDenied, Msg::kOwnerAlwaysAdmin};
  return found_or_404(users.set_admin(id, is_admin, actor, request_id));
}

Status suspend_user(const Actor& actor, std::string_view id, const std::optional<std::string>& reason,
                    std::string_view request_id, UserAdminStore& users) {
  Result<Account> user = target(id, users);
  if (!user.is_ok()) return user.status();
  CHATALOT_RETURN_IF_ERROR(may_suspend(actor, *user));
  return found_or_404(users.suspend(id, reason, actor, request_id));
}

Status unsuspend_user(const Actor& actor, std::string_view id, std::string_view request_id,
                      UserAdminStore& users) {
  Result<Account> user = target(id, users);
  if (!user.is_ok()) return user.status();
  CHATALOT_RETURN_IF_ERROR(may_suspend(actor, *user));
  return found_or_404(users.unsuspend(id, actor, request_id));
}

}  // namespace chatalot
