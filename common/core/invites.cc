#include "core/invites.h"

#include <cmath>
#include <limits>

#include "core/codes.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/text.h"

namespace chatalot {
namespace {

constexpr std::int64_t kMaxUses = 2147483647;
constexpr std::int64_t kMaxExpiresInHours = 8760;
constexpr std::size_t kMaxNoteCodePoints = 200;

// Integers only. A number that is integral but too large for 64 bits (RapidJSON reads it as a
// double) is an integer out of range, so it gets the range message rather than the type one.
Status read_integer(const rapidjson::Value& body, const char* name, Message type_message,
                    std::optional<std::int64_t>* out) {
  const auto it = body.FindMember(name);
  if (it == body.MemberEnd() || it->value.IsNull()) return Status::ok();
  const rapidjson::Value& v = it->value;
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  if (v.IsInt64()) {
    *out = v.GetInt64();
  } else if (v.IsUint64()) {
    *out = kMax;
  } else if (v.IsDouble() && std::fabs(v.GetDouble()) >= 0x1p63 &&
             std::trunc(v.GetDouble()) == v.GetDouble()) {
    *out = v.GetDouble() > 0 ? kMax : kMin;
  } else {
    return invalid_argument(type_message);
  }
  return Status::ok();
}

Status read_note(const rapidjson::Value& body, std::optional<std::string>* out) {
  const auto it = body.FindMember("note");
  if (it == body.MemberEnd() || it->value.IsNull()) return Status::ok();
  if (!it->value.IsString()) return invalid_argument(Msg::kNoteType);
  *out = std::string(it->value.GetString(), it->value.GetStringLength());
  return Status::ok();
}

}  // namespace

Status check_invite_spec(const InviteSpec& spec) {
  if (spec.max_uses && (*spec.max_uses < 1 || *spec.max_uses > kMaxUses)) {
    return invalid_argument(Msg::kMaxUsesRange);
  }
  if (spec.expires_in_hours &&
      (*spec.expires_in_hours < 1 || *spec.expires_in_hours > kMaxExpiresInHours)) {
    return invalid_argument(Msg::kExpiresRange);
  }
  // Control characters (C0, DEL, C1) and bidirectional overrides would garble or disguise the
  // note where an admin reads it (the panel, the CLI).
  if (spec.note && (has_control_or_bidi(*spec.note) || count_code_points(*spec.note) > kMaxNoteCodePoints)) {
    return invalid_argument(Msg::kNoteRange);
  }
  return Status::ok();
}

Result<InviteSpec> invite_spec_from_json(const rapidjson::Value& body) {
  InviteSpec spec;
  CHATALOT_RETURN_IF_ERROR(read_integer(body, "max_uses", Msg::kMaxUsesType, &spec.max_uses));
  CHATALOT_RETURN_IF_ERROR(
      read_integer(body, "expires_in_hours", Msg::kExpiresType, &spec.expires_in_hours));
  CHATALOT_RETURN_IF_ERROR(read_note(body, &spec.note));
  CHATALOT_RETURN_IF_ERROR(check_invite_spec(spec));
  return spec;
}

Result<UsableInvite> check_invite(std::string_view body, std::string_view remote_addr,
                                  InviteCheckDeps& deps) {
  if (deps.policy.mode == RegistrationMode::kClosed) return invalid_argument(Msg::kRegistrationClosed);
  InviteBudget budget(deps.limiter, deps.policy.invite_limit, deps.policy.invite_network_limit);
  CHATALOT_RETURN_IF_ERROR(budget.begin(remote_addr));
  // A body that is refused spends the attempt: guessing with broken bodies is still guessing.
  Result<rapidjson::Document> doc = parse_json_object(body);
  if (!doc.is_ok()) return doc.status();
  const auto field = doc->FindMember("invite_code");
  if (field == doc->MemberEnd() || !field->value.IsString()) {
    return invalid_argument(Msg::kInviteCodeNotString);
  }
  const std::string code =
      normalize_invite_code({field->value.GetString(), field->value.GetStringLength()});
  Result<std::optional<UsableInvite>> found = std::optional<UsableInvite>();
  if (!code.empty()) found = deps.invites.find_usable(code);
  // A lookup that could not be made tried nothing: the attempt is given back.
  budget.finish(remote_addr, !found.is_ok() || found->has_value());
  if (!found.is_ok()) return found.status();
  if (!found->has_value()) return invalid_argument(Msg::kInviteInvalid);
  return **found;
}

Result<CreatedInvite> create_invite(const InviteSpec& spec, const std::optional<std::string>& admin,
                                    std::string_view request_id, InviteStore& invites,
                                    Random& random) {
  CHATALOT_RETURN_IF_ERROR(check_invite_spec(spec));
  Result<std::string> code = generate_invite_code(random);
  if (!code.is_ok()) return code.status();
  Result<Invite> created =
      invites.create(NewInvite{spec, normalize_invite_code(*code), admin, std::string(request_id)});
  if (!created.is_ok()) return created.status();
  return CreatedInvite{std::move(created).value(), *code};
}

Result<Invite> revoke_invite(std::string_view id, const std::optional<std::string>& admin,
                             std::string_view request_id, InviteStore& invites) {
  const Status not_found(Code::kNotFound, Msg::kInviteNotFound);
  // Anything else would be a PostgreSQL error (invalid input syntax), not an unknown invite.
  if (!is_uuid(id)) return not_found;
  Result<std::optional<Invite>> revoked = invites.revoke(id, admin, request_id);
  if (!revoked.is_ok()) return revoked.status();
  if (!revoked->has_value()) return not_found;
  return **revoked;
}

}  // namespace chatalot
