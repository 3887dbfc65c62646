#include "invites.h"

#include "codes.h"
#include "validation.h"

namespace chatalot {

Status check_invite_spec(const InviteSpec& spec) {
  if (spec.max_uses && (*spec.max_uses < 1 || *spec.max_uses > 2147483647)) {
    return invalid_argument("max_uses must be between 1 and 2147483647");
  }
  if (spec.expires_in_hours && (*spec.expires_in_hours < 1 || *spec.expires_in_hours > 8760)) {
    return invalid_argument("expires_in_hours must be between 1 and 8760");
  }
  if (spec.note) {
    bool control = false;
    for (unsigned char c : *spec.note) control = control || c < 0x20 || c == 0x7f;
    if (control || count_code_points(*spec.note) > 200) {
      return invalid_argument("note must be at most 200 characters without control characters");
    }
  }
  return Status::ok();
}

Result<CreatedInvite> create_invite(PgConnection& conn, const InviteSpec& spec,
                                    const std::optional<std::string>& created_by,
                                    const std::string& request_id) {
  if (Status s = check_invite_spec(spec); !s.is_ok()) return s;
  Result<std::string> code = generate_invite_code();
  if (!code.is_ok()) return code.status();
  const std::string normalized = normalize_invite_code(*code);
  CreatedInvite invite;
  invite.code = *code;
  invite.code_hint = normalized.substr(0, 4);
  invite.max_uses = spec.max_uses;
  invite.note = spec.note;
  invite.created_by = created_by;
  const auto number = [](const std::optional<std::int64_t>& v) -> PgParam {
    return v ? PgParam(std::to_string(*v)) : std::nullopt;
  };
  Transaction tx(conn);
  if (!tx.begin_status().is_ok()) return tx.begin_status();
  Result<PgResult> row = conn.exec(
      "WITH inv AS ("
      "  INSERT INTO registration_invites (code_hash, code_hint, max_uses, expires_at, note,"
      "                                    created_by)"
      "  VALUES ($1, $2, $3::integer, now() + make_interval(hours => $4::integer), $5, $6::uuid)"
      "  RETURNING id, expires_at, created_at),"
      " audit AS ("
      "  INSERT INTO audit_log (actor_id, action, target_id, details, request_id)"
      "  SELECT $6::uuid, 'invite.create', id,"
      "         jsonb_build_object('max_uses', $3::integer, 'source',"
      "                            CASE WHEN $6::uuid IS NULL THEN 'cli' ELSE 'api' END), $7"
      "  FROM inv)"
      " SELECT id, coalesce(" CHATALOT_RFC3339("expires_at") ", ''), "
      CHATALOT_RFC3339("created_at") " FROM inv",
      {invite_code_hash(normalized), invite.code_hint, number(spec.max_uses),
       number(spec.expires_in_hours), spec.note, created_by,
       request_id.empty() ? std::nullopt : PgParam(request_id)});
  if (!row.is_ok()) return row.status();
  if (Status s = tx.commit(); !s.is_ok()) return s;
  invite.id = row->get(0, 0);
  invite.expires_at = row->get(0, 1);
  invite.created_at = row->get(0, 2);
  return invite;
}

}  // namespace chatalot
