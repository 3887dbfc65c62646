#include "invites.h"

#include <cctype>
#include <charconv>

#include "codes.h"
#include "validation.h"

namespace chatalot {
namespace {

// The columns every listing reads, in the order read_invite() expects.
// clang-format off
#define CHATALOT_INVITE_COLUMNS(t)                                                      \
  t "id, " t "code_hint, " t "created_by, " t "max_uses, " t "used_count, "             \
    CHATALOT_RFC3339(t "expires_at") ", " CHATALOT_RFC3339(t "created_at") ", " t "note, " \
    CHATALOT_RFC3339(t "revoked_at")
// clang-format on

constexpr const char* kListSql =
    "SELECT " CHATALOT_INVITE_COLUMNS("") " FROM registration_invites"
    " ORDER BY created_at DESC, id LIMIT $1::integer";

// The row is locked first so that a concurrent revocation is seen, and the audit record can say
// whether this one changed anything. One statement: the revocation and its record commit
// together or not at all.
constexpr const char* kRevokeSql =
    "WITH old AS (SELECT id, revoked_at FROM registration_invites WHERE id = $1::uuid"
    "             FOR UPDATE),"
    " inv AS (UPDATE registration_invites r SET revoked_at = coalesce(r.revoked_at, now())"
    "         FROM old WHERE r.id = old.id RETURNING r.*),"
    " audit AS (INSERT INTO audit_log (actor_id, action, target_id, details, request_id)"
    "           SELECT $2::uuid, 'invite.revoke', old.id,"
    "                  jsonb_build_object('source', CASE WHEN $2::uuid IS NULL THEN 'cli'"
    "                                                    ELSE 'api' END,"
    "                                     'already_revoked', old.revoked_at IS NOT NULL), $3"
    "           FROM old)"
    " SELECT " CHATALOT_INVITE_COLUMNS("inv.") " FROM inv";

#undef CHATALOT_INVITE_COLUMNS

std::optional<std::string> optional_text(const PgResult& r, int row, int col) {
  if (r.is_null(row, col)) return std::nullopt;
  return r.get(row, col);
}

std::int64_t to_int64(const std::string& text) {
  std::int64_t n = 0;
  std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

ListedInvite read_invite(const PgResult& r, int row) {
  ListedInvite invite;
  invite.id = r.get(row, 0);
  invite.code_hint = r.get(row, 1);
  invite.created_by = optional_text(r, row, 2);
  if (!r.is_null(row, 3)) invite.max_uses = to_int64(r.get(row, 3));
  invite.used_count = to_int64(r.get(row, 4));
  invite.expires_at = optional_text(r, row, 5);
  invite.created_at = r.get(row, 6);
  invite.note = optional_text(r, row, 7);
  invite.revoked_at = optional_text(r, row, 8);
  return invite;
}

PgParam optional_param(const std::string& text) {
  return text.empty() ? std::nullopt : PgParam(text);
}

}  // namespace

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
       number(spec.expires_in_hours), spec.note, created_by, optional_param(request_id)});
  if (!row.is_ok()) return row.status();
  if (Status s = tx.commit(); !s.is_ok()) return s;
  invite.id = row->get(0, 0);
  invite.expires_at = row->get(0, 1);
  invite.created_at = row->get(0, 2);
  return invite;
}

ListedInvite listed_invite(const CreatedInvite& created) {
  ListedInvite invite;
  invite.id = created.id;
  invite.code_hint = created.code_hint;
  invite.created_by = created.created_by;
  invite.max_uses = created.max_uses;
  if (!created.expires_at.empty()) invite.expires_at = created.expires_at;
  invite.created_at = created.created_at;
  invite.note = created.note;
  return invite;
}

Result<std::vector<ListedInvite>> list_invites(PgConnection& conn, int limit) {
  Result<PgResult> r = conn.exec(kListSql, {std::to_string(limit)});
  if (!r.is_ok()) return r.status();
  std::vector<ListedInvite> invites;
  invites.reserve(static_cast<std::size_t>(r->rows()));
  for (int row = 0; row < r->rows(); ++row) invites.push_back(read_invite(*r, row));
  return invites;
}

Result<std::optional<ListedInvite>> revoke_invite(PgConnection& conn, const std::string& id,
                                                  const std::optional<std::string>& actor,
                                                  const std::string& request_id) {
  // Anything else would be a PostgreSQL error (invalid input syntax), not an unknown invite.
  if (!is_uuid(id)) return std::optional<ListedInvite>();
  Result<PgResult> r = conn.exec(kRevokeSql, {id, actor, optional_param(request_id)});
  if (!r.is_ok()) return r.status();
  if (r->rows() == 0) return std::optional<ListedInvite>();
  return std::optional<ListedInvite>(read_invite(*r, 0));
}

void write_invite_json(JsonWriter& w, const ListedInvite& invite,
                       std::optional<std::string_view> code) {
  const auto text = [&w](std::string_view key, const std::optional<std::string>& v) {
    w.key(key);
    v ? w.string(*v) : w.null();
  };
  w.start_object();
  w.field("id", invite.id);
  if (code) w.field("code", *code);
  w.field("code_hint", invite.code_hint);
  text("created_by", invite.created_by);
  w.key("max_uses");
  invite.max_uses ? w.integer(*invite.max_uses) : w.null();
  w.field("used_count", invite.used_count);
  text("expires_at", invite.expires_at);
  w.field("created_at", invite.created_at);
  text("note", invite.note);
  text("revoked_at", invite.revoked_at);
  w.end_object();
}

bool is_uuid(std::string_view text) {
  if (text.size() != 36) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? text[i] != '-' : !std::isxdigit(static_cast<unsigned char>(text[i]))) return false;
  }
  return true;
}

}  // namespace chatalot
