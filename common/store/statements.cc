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

// The columns of an account, in the order the stores' reader expects (pg_sessions.cc).
std::string account_columns(const std::string& t) {
  return t + "id, " + t + "username, " + t + "display_name, " + t + "email, " + t + "avatar_url, " +
         t + "banner_url, " + t + "status, " + t + "custom_status, " + t + "is_admin, " + t +
         "is_owner, " + rfc3339(t + "suspended_at") + ", " + t + "suspended_reason, " +
         rfc3339(t + "created_at") + ", " + t + "invite_id, " + t + "password_hash";
}

// Who made a change, for the audit record: $n NULL is the server's shell.
std::string source_of(const std::string& actor) {
  return "CASE WHEN " + actor + " IS NULL THEN 'cli' ELSE 'api' END";
}

// The end of a session refreshed now, $days (SESSION_DAYS) from now.
std::string session_end(const std::string& days) {
  return "now() + make_interval(days => " + days + ")";
}

// A new session of user $1 with its first refresh token $2 (a SHA-256 digest), from device
// $dev and address $ip, lasting $days: the CTEs "s" (the session's id) and "rt".
std::string new_session(const std::string& dev, const std::string& ip, const std::string& days) {
  return "s AS (INSERT INTO sessions (user_id, device_name, ip_address, expires_at)"
         "      VALUES ($1, " + dev + ", " + ip + ", " + session_end(days) + ") RETURNING id),"
         " rt AS (INSERT INTO refresh_tokens (user_id, session_id, token_hash, expires_at)"
         "        SELECT $1, s.id, $2, " + session_end(days) + " FROM s)";
}

// The condition on sessions under which one is live.
const std::string kSessionLive = "revoked_at IS NULL AND expires_at > now()";

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
      {Sql::kStatementTimeout, "statement_timeout", "SELECT current_setting('statement_timeout')",
       {}},

      // Version 0 when the table does not exist yet (the query then fails, see schema.cc).
      {Sql::kSchemaVersion, "schema_version", "SELECT coalesce(max(version), 0) FROM schema_version",
       {}},
      // Several hosts may run migrate at once (systemd's migration unit on each): one at a time,
      // each migration's transaction holding the lock.
      {Sql::kMigrationLock, "migration_lock", "SELECT pg_advisory_xact_lock(7211000001)", {}},
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
      // The account's first session (lasting $8 days) and the audit record; returns the
      // session's id.
      {Sql::kFinishRegistration, "finish_registration",
       "WITH " + new_session("$6", "$7", "$8") + ","
       " a AS (INSERT INTO audit_log (actor_id, action, target_id, details, request_id)"
       "       SELECT $1, 'user.register', $1,"
       "              jsonb_build_object('invite_id', $3, 'owner', $4, 'session_id', s.id), $5"
       "       FROM s)"
       " SELECT id FROM s",
       {kUuid, kText, kUuid, kBool, kText, kText, kText, kInt4}},
      // ADMIN_USERNAME: promoted at start-up only, if the account exists and is not an admin yet.
      {Sql::kPromoteAdmin, "promote_admin",
       "WITH p AS (UPDATE users SET is_admin = true"
       "           WHERE lower(username) = lower($1) AND NOT is_admin RETURNING id, username),"
       " a AS (INSERT INTO audit_log (action, target_id, details)"
       "       SELECT 'user.promote_admin', id, jsonb_build_object('source', 'ADMIN_USERNAME')"
       "       FROM p)"
       " SELECT id, username FROM p",
       {kText}},

      {Sql::kUserRoles, "user_roles",
       "SELECT is_admin, is_owner, suspended_at IS NOT NULL FROM users WHERE id = $1", {kUuid}},
      {Sql::kUserByName, "user_by_name",
       "SELECT " + account_columns("") + " FROM users WHERE lower(username) = lower($1)", {kText}},
      {Sql::kUserById, "user_by_id", "SELECT " + account_columns("") + " FROM users WHERE id = $1",
       {kUuid}},
      // Changes to one account's keys queue here (a concurrent twin would collide on its keys).
      {Sql::kLockUser, "lock_user", "SELECT id FROM users WHERE id = $1 FOR UPDATE", {kUuid}},

      // A login: $1 user, $2 the refresh token's digest, $3 device, $4 address, $5 a new password
      // hash (other Argon2 parameters) or NULL, $6 request id, $7 the session's days. Returns the
      // session's id.
      {Sql::kStartSession, "start_session",
       "WITH " + new_session("$3", "$4", "$7") + ","
       " pw AS (UPDATE users SET password_hash = $5 WHERE id = $1 AND $5 IS NOT NULL),"
       " a AS (INSERT INTO audit_log (actor_id, action, target_id, details, request_id)"
       "       SELECT $1, 'session.login', $1,"
       "              jsonb_build_object('session_id', s.id, 'rehashed', $5 IS NOT NULL), $6"
       "       FROM s)"
       " SELECT id FROM s",
       {kUuid, kText, kText, kText, kText, kText, kInt4}},
      // The token $1 and its session, locked: concurrent refreshes of one session queue here,
      // and each sees what the one before it wrote (READ COMMITTED re-reads a locked row).
      // Columns: token id, session id, spent, spent longer ago than $2 seconds, session live
      // and account not suspended, then the account's id, name and roles.
      {Sql::kLockRefreshToken, "lock_refresh_token",
       "SELECT t.id, t.session_id, t.used_at IS NOT NULL,"
       "       t.used_at < now() - make_interval(secs => $2),"
       "       s.revoked_at IS NULL AND s.expires_at > now() AND u.suspended_at IS NULL,"
       "       u.id, u.username, u.is_admin, u.is_owner"
       " FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id"
       "      JOIN users u ON u.id = t.user_id"
       " WHERE t.token_hash = $1 FOR UPDATE OF t, s",
       {kText, kInt4}},
      // $1 the spent token's id, $2 its session, $3 the user, $4 the successor's digest, $5 the
      // session's days from now.
      {Sql::kRotateRefreshToken, "rotate_refresh_token",
       "WITH spent AS (UPDATE refresh_tokens SET used_at = now() WHERE id = $1),"
       " s AS (UPDATE sessions SET last_used_at = now(), expires_at = " + session_end("$5") +
       "       WHERE id = $2),"
       " nt AS (INSERT INTO refresh_tokens (user_id, session_id, token_hash, expires_at)"
       "        VALUES ($3, $2, $4, " + session_end("$5") + "))"
       " SELECT 1",
       {kUuid, kUuid, kUuid, kText, kInt4}},
      // Ends session $1 of user $2 if live, for reason $3, by actor $4 (NULL: the system or the
      // shell), request $5. Returns the session's id when it ended now.
      {Sql::kEndSession, "end_session",
       "WITH s AS (UPDATE sessions SET revoked_at = now(), revoked_reason = $3"
       "           WHERE id = $1 AND user_id = $2 AND " + kSessionLive + " RETURNING id),"
       " a AS (INSERT INTO audit_log (actor_id, action, target_id, details, request_id)"
       "       SELECT $4, 'session.end', $2, jsonb_build_object('session_id', s.id, 'reason', $3), $5"
       "       FROM s)"
       " SELECT id FROM s",
       {kUuid, kUuid, kText, kUuid, kText}},
      // Logout: the session of refresh token $1 (spent or not), if live.
      {Sql::kEndSessionByToken, "end_session_by_token",
       "WITH t AS (SELECT session_id FROM refresh_tokens WHERE token_hash = $1),"
       " s AS (UPDATE sessions SET revoked_at = now(), revoked_reason = 'logout' FROM t"
       "       WHERE sessions.id = t.session_id AND sessions.revoked_at IS NULL"
       "       RETURNING sessions.id, sessions.user_id),"
       " a AS (INSERT INTO audit_log (actor_id, action, target_id, details, request_id)"
       "       SELECT s.user_id, 'session.end', s.user_id,"
       "              jsonb_build_object('session_id', s.id, 'reason', 'logout'), $2 FROM s)"
       " SELECT count(*) FROM s",
       {kText, kText}},
      // Every live session of user $1 but $2 (NULL: none), for reason $3, by actor $4.
      {Sql::kEndSessions, "end_sessions",
       "WITH s AS (UPDATE sessions SET revoked_at = now(), revoked_reason = $3"
       "           WHERE user_id = $1 AND " + kSessionLive + " AND id IS DISTINCT FROM $2"
       "           RETURNING id),"
       " a AS (INSERT INTO audit_log (actor_id, action, target_id, details, request_id)"
       "       SELECT $4, 'session.end_all', $1,"
       "              jsonb_build_object('reason', $3, 'count', count(*), 'source', " +
           source_of("$4") + "), $5 FROM s)"
       " SELECT count(*) FROM s",
       {kUuid, kUuid, kText, kUuid, kText}},
      {Sql::kLiveSessions, "live_sessions",
       "SELECT id, device_name, ip_address, " + rfc3339("created_at") + ", " +
           rfc3339("expires_at") + " FROM sessions WHERE user_id = $1 AND " + kSessionLive +
           " ORDER BY created_at DESC, id LIMIT $2",
       {kUuid, kInt4}},
      // Recovery, in one statement: user $1 (ignoring case) with recovery code digest $2, if not
      // suspended, gets password hash $3 and recovery code digest $4, and loses every session.
      // The row lock makes a code work once: a concurrent twin re-reads the new digest. Returns
      // whether the account is suspended; no row when nothing matched.
      {Sql::kRecover, "recover",
       "WITH m AS (SELECT id, suspended_at IS NOT NULL AS suspended FROM users"
       "           WHERE lower(username) = lower($1) AND recovery_code_hash = $2 FOR UPDATE),"
       " u AS (UPDATE users SET password_hash = $3, recovery_code_hash = $4 FROM m"
       "       WHERE users.id = m.id AND NOT m.suspended RETURNING users.id),"
       " s AS (UPDATE sessions SET revoked_at = now(), revoked_reason = 'recovery' FROM u"
       "       WHERE sessions.user_id = u.id AND sessions.revoked_at IS NULL RETURNING sessions.id),"
       " a AS (INSERT INTO audit_log (actor_id, action, target_id, details, request_id)"
       "       SELECT u.id, 'user.recover', u.id,"
       "              jsonb_build_object('sessions_ended', (SELECT count(*) FROM s)), $5 FROM u)"
       " SELECT suspended FROM m",
       {kText, kText, kText, kText, kText}},
      // User $1 gets password hash $2; every session but $3 (NULL: none) ends.
      {Sql::kChangePassword, "change_password",
       "WITH u AS (UPDATE users SET password_hash = $2 WHERE id = $1 RETURNING id),"
       " s AS (UPDATE sessions SET revoked_at = now(), revoked_reason = 'password_change' FROM u"
       "       WHERE sessions.user_id = u.id AND sessions.revoked_at IS NULL"
       "         AND sessions.id IS DISTINCT FROM $3 RETURNING sessions.id),"
       " a AS (INSERT INTO audit_log (actor_id, action, target_id, details, request_id)"
       "       SELECT u.id, 'user.password_change', u.id,"
       "              jsonb_build_object('sessions_ended', (SELECT count(*) FROM s)), $4 FROM u)"
       " SELECT count(*) FROM u",
       {kUuid, kText, kUuid, kText}},
      {Sql::kSetRecoveryCode, "set_recovery_code",
       "WITH u AS (UPDATE users SET recovery_code_hash = $2 WHERE id = $1 RETURNING id)"
       " INSERT INTO audit_log (actor_id, action, target_id, request_id)"
       " SELECT u.id, 'user.regenerate_recovery_code', u.id, $3 FROM u",
       {kUuid, kText, kText}},

      {Sql::kDeleteKeys, "delete_keys",
       "WITH ik AS (DELETE FROM identity_keys WHERE user_id = $1),"
       " spk AS (DELETE FROM signed_prekeys WHERE user_id = $1)"
       " DELETE FROM one_time_prekeys WHERE user_id = $1",
       {kUuid}},
      {Sql::kAuditKeys, "audit_keys",
       "INSERT INTO audit_log (actor_id, action, target_id, details, request_id)"
       " VALUES ($1, 'keys.register', $1, jsonb_build_object('one_time_prekeys', $2), $3)",
       {kUuid, kInt4, kText}},

      // The admin's user list, newest first; search_users when there is a term.
      {Sql::kListUsers, "list_users",
       "SELECT " + account_columns("") +
           " FROM users ORDER BY created_at DESC, id LIMIT $1 OFFSET $2",
       {kInt4, kInt8}},
      // Search as plain text ignoring case: \, % and _ are escaped, so only the whole string
      // matches. lower(column) LIKE lower(pattern) are the expressions of the trigram indexes of
      // migration 003. Which plan is best depends on the term: a rare one is found through the
      // indexes, a common one by walking the newest accounts until the page is full; so the
      // statement is planned for each term (a generic plan would serve every term with one).
      {Sql::kSearchUsers, "search_users",
       "SELECT " + account_columns("u.") + " FROM users u,"
       " (SELECT lower('%' || replace(replace(replace($1, '\\', '\\\\'), '%', '\\%'), '_', '\\_')"
       "               || '%') AS p) q"
       " WHERE lower(u.username) LIKE q.p OR lower(u.display_name) LIKE q.p"
       "    OR lower(u.email) LIKE q.p"
       " ORDER BY u.created_at DESC, u.id LIMIT $2 OFFSET $3",
       {kText, kInt4, kInt8}, /*plan_each_call=*/true},
      // The owner's flag is never removed (and the table's CHECK agrees).
      {Sql::kSetAdmin, "set_admin",
       "WITH u AS (UPDATE users SET is_admin = $2 WHERE id = $1 AND (NOT is_owner OR $2)"
       "           RETURNING id),"
       " a AS (INSERT INTO audit_log (actor_id, action, target_id, details, request_id)"
       "       SELECT $3, 'user.set_admin', u.id,"
       "              jsonb_build_object('is_admin', $2, 'source', " + source_of("$3") + "), $4"
       "       FROM u)"
       " SELECT id FROM u",
       {kUuid, kBool, kUuid, kText}},
      {Sql::kSuspendUser, "suspend_user",
       "WITH u AS (UPDATE users SET suspended_at = coalesce(suspended_at, now()),"
       "                            suspended_reason = $2, suspended_by = $3"
       "           WHERE id = $1 AND NOT is_owner RETURNING id),"
       " s AS (UPDATE sessions SET revoked_at = now(), revoked_reason = 'suspended' FROM u"
       "       WHERE sessions.user_id = u.id AND sessions.revoked_at IS NULL RETURNING sessions.id),"
       " a AS (INSERT INTO audit_log (actor_id, action, target_id, details, request_id)"
       "       SELECT $3, 'user.suspend', u.id,"
       "              jsonb_build_object('reason', $2, 'sessions_ended', (SELECT count(*) FROM s),"
       "                                 'source', " + source_of("$3") + "), $4 FROM u)"
       " SELECT id FROM u",
       {kUuid, kText, kUuid, kText}},
      {Sql::kUnsuspendUser, "unsuspend_user",
       "WITH u AS (UPDATE users SET suspended_at = NULL, suspended_reason = NULL,"
       "                            suspended_by = NULL WHERE id = $1 RETURNING id),"
       " a AS (INSERT INTO audit_log (actor_id, action, target_id, details, request_id)"
       "       SELECT $2, 'user.unsuspend', u.id,"
       "              jsonb_build_object('source', " + source_of("$2") + "), $3 FROM u)"
       " SELECT id FROM u",
       {kUuid, kUuid, kText}},

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
       " WHERE $2 OR revoked_at IS NULL ORDER BY created_at DESC, id LIMIT $1",
       {kInt4, kBool}},
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
