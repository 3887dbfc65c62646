#include "store/statements.h"

#include <array>
#include <cstdlib>

namespace chatalot {
namespace {

using enum PgType;

// A timestamptz column as RFC 3339 UTC with microseconds, as the Chatalot server writes them:
// "2026-11-30T00:10:00.123456Z".
std::string rfc3339(const std::string& column) {
  return "to_char(" + column + " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')";
}

// The columns every invite listing reads, in the order the store's reader expects.
std::string invite_columns(const std::string& t) {
  return t + "id, " + t + "code_hint, " + t + "created_by, " + t + "max_uses, " + t +
         "used_count, " + rfc3339(t + "expires_at") + ", " + rfc3339(t + "created_at") + ", " + t +
         "note, " + rfc3339(t + "revoked_at");
}

// The condition on registration_invites under which a code may be used once more now.
const std::string kInviteUsable =
    "revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())"
    " AND (max_uses IS NULL OR used_count < max_uses)";

std::vector<Statement> make_statements() {
  return {
      {Sql::kBegin, "begin", "BEGIN", {}},
      {Sql::kCommit, "commit", "COMMIT", {}},
      {Sql::kRollback, "rollback", "ROLLBACK", {}},
      {Sql::kSetStatementTimeout, "set_statement_timeout",
       "SELECT set_config('statement_timeout', $1, false)", {kText}},

      // Version 0 when the table does not exist yet (the query then fails, see schema.cc).
      {Sql::kSchemaVersion, "schema_version", "SELECT coalesce(max(version), 0) FROM schema_version",
       {}},
      // Several hosts may run migrate at once (systemd's migration unit on each): one at a time.
      {Sql::kMigrationLock, "migration_lock", "SELECT pg_advisory_lock(7211000001)", {}},
      {Sql::kCreateSchemaVersion, "create_schema_version",
       "CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, name text NOT NULL,"
       " applied_at timestamptz NOT NULL DEFAULT now())",
       {}},
      {Sql::kRecordMigration, "record_migration",
       "INSERT INTO schema_version (version, name) VALUES ($1, $2)", {kInt4, kText}},

      {Sql::kAccountTaken, "account_taken",
       "SELECT EXISTS (SELECT 1 FROM users WHERE lower(username) = lower($1)),"
       "       EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($2))",
       {kText, kText}},
      {Sql::kInsertUser, "insert_user",
       "INSERT INTO users (username, email, password_hash, display_name, recovery_code_hash)"
       " VALUES ($1, $2, $3, $4, $5) RETURNING id, " + rfc3339("created_at"),
       {kText, kText, kText, kText, kText}},
      {Sql::kInsertKeys, "insert_keys",
       "WITH ik AS (INSERT INTO identity_keys (user_id, public_key) VALUES ($1, $2)),"
       " spk AS (INSERT INTO signed_prekeys (user_id, key_id, public_key, signature)"
       "         VALUES ($1, $3, $4, $5))"
       " INSERT INTO one_time_prekeys (user_id, key_id, public_key)"
       " SELECT $1, k, p FROM unnest($6, $7) AS t (k, p)",
       {kUuid, kBytea, kInt8, kBytea, kBytea, kInt8Array, kByteaArray}},
      // One use, taken by a single conditional update: the row lock queues concurrent
      // registrants and each re-checks the condition, so used_count never passes max_uses.
      {Sql::kConsumeInvite, "consume_invite",
       "WITH inv AS (UPDATE registration_invites SET used_count = used_count + 1"
       "             WHERE code_hash = $2 AND " + kInviteUsable + " RETURNING id)"
       " UPDATE users SET invite_id = inv.id FROM inv WHERE users.id = $1 RETURNING inv.id",
       {kUuid, kText}},
      // The first account ever: concurrent claimants queue on the singleton row.
      {Sql::kClaimOwner, "claim_owner",
       "WITH own AS (INSERT INTO instance_owner (user_id) VALUES ($1)"
       "             ON CONFLICT DO NOTHING RETURNING user_id)"
       " UPDATE users SET is_owner = true, is_admin = true FROM own"
       " WHERE users.id = own.user_id RETURNING true",
       {kUuid}},
      {Sql::kFinishRegistration, "finish_registration",
       "WITH rt AS (INSERT INTO refresh_tokens (user_id, token_hash, expires_at)"
       "            VALUES ($1, $2, now() + interval '30 days'))"
       " INSERT INTO audit_log (actor_id, action, target_id, details, request_id)"
       " VALUES ($1, 'user.register', $1, jsonb_build_object('invite_id', $3, 'owner', $4), $5)",
       {kUuid, kText, kUuid, kBool, kText}},
      // ADMIN_USERNAME: promoted at start-up only, if the account exists and is not an admin yet.
      {Sql::kPromoteAdmin, "promote_admin",
       "WITH p AS (UPDATE users SET is_admin = true"
       "           WHERE lower(username) = lower($1) AND NOT is_admin RETURNING id, username),"
       " a AS (INSERT INTO audit_log (action, target_id, details)"
       "       SELECT 'user.promote_admin', id, jsonb_build_object('source', 'ADMIN_USERNAME')"
       "       FROM p)"
       " SELECT id, username FROM p",
       {kText}},

      {Sql::kUserRoles, "user_roles", "SELECT is_admin, is_owner FROM users WHERE id = $1",
       {kUuid}},

      {Sql::kUsableInvite, "usable_invite",
       "SELECT " + rfc3339("expires_at") + ", max_uses - used_count"
       " FROM registration_invites WHERE code_hash = $1 AND " + kInviteUsable,
       {kText}},
      {Sql::kCreateInvite, "create_invite",
       "WITH inv AS ("
       "  INSERT INTO registration_invites (code_hash, code_hint, max_uses, expires_at, note,"
       "                                    created_by)"
       "  VALUES ($1, $2, $3, now() + make_interval(hours => $4), $5, $6) RETURNING *),"
       " audit AS ("
       "  INSERT INTO audit_log (actor_id, action, target_id, details, request_id)"
       "  SELECT $6, 'invite.create', id,"
       "         jsonb_build_object('max_uses', $3, 'source',"
       "                            CASE WHEN $6 IS NULL THEN 'cli' ELSE 'api' END), $7"
       "  FROM inv)"
       " SELECT " + invite_columns("inv.") + " FROM inv",
       {kText, kText, kInt4, kInt4, kText, kUuid, kText}},
      {Sql::kListInvites, "list_invites",
       "SELECT " + invite_columns("") + " FROM registration_invites"
       " ORDER BY created_at DESC, id LIMIT $1",
       {kInt4}},
      // The row is locked first so that a concurrent revocation is seen, and the audit record
      // can say whether this one changed anything. One statement: the revocation and its record
      // commit together or not at all.
      {Sql::kRevokeInvite, "revoke_invite",
       "WITH old AS (SELECT id, revoked_at FROM registration_invites WHERE id = $1 FOR UPDATE),"
       " inv AS (UPDATE registration_invites r SET revoked_at = coalesce(r.revoked_at, now())"
       "         FROM old WHERE r.id = old.id RETURNING r.*),"
       " audit AS (INSERT INTO audit_log (actor_id, action, target_id, details, request_id)"
       "           SELECT $2, 'invite.revoke', old.id,"
       "                  jsonb_build_object('source', CASE WHEN $2 IS NULL THEN 'cli'"
       "                                                    ELSE 'api' END,"
       "                                     'already_revoked', old.revoked_at IS NOT NULL), $3"
       "           FROM old)"
       " SELECT " + invite_columns("inv.") + " FROM inv",
       {kUuid, kUuid, kText}},
  };
}

}  // namespace

const Statement& statement(Sql id) {
  static const std::vector<Statement> kStatements = [] {
    std::vector<Statement> all = make_statements();
    // Listed in the enum's order, each once: checked once, at first use.
    if (all.size() != static_cast<std::size_t>(Sql::kCount)) std::abort();
    for (std::size_t i = 0; i < all.size(); ++i) {
      if (static_cast<std::size_t>(all[i].id) != i) std::abort();
    }
    return all;
  }();
  return kStatements[static_cast<std::size_t>(id)];
}

}  // namespace chatalot
