#include "store/pg_sessions.h"

#include "crypto/crypto.h"
#include "store/pg_stores.h"

namespace chatalot {
namespace {

// A row of the account columns (statements.cc account_columns).
Account read_account(const PgResult& r, int row) {
  Account a;
  a.id = r.text(row, 0);
  a.username = r.text(row, 1);
  a.display_name = r.text(row, 2);
  a.email = r.text(row, 3);
  a.avatar_url = r.optional_text(row, 4);
  a.banner_url = r.optional_text(row, 5);
  a.status = r.text(row, 6);
  a.custom_status = r.optional_text(row, 7);
  a.is_admin = r.boolean(row, 8);
  a.is_owner = r.boolean(row, 9);
  a.suspended_at = r.optional_text(row, 10);
  a.suspended_reason = r.optional_text(row, 11);
  a.created_at = r.text(row, 12);
  a.invite_id = r.optional_text(row, 13);
  a.password_hash = r.text(row, 14);
  return a;
}

// One account by a statement that selects the account columns; nullopt when no row.
Result<std::optional<Account>> find_account(PgLink& link, Sql sql, const PgParam& key) {
  Result<PgConnection*> db = link.connection();
  if (!db.is_ok()) return db.status();
  Result<PgResult> r = (*db)->exec(sql, {key});
  if (!r.is_ok()) return r.status();
  if (r->rows() == 0) return std::optional<Account>();
  return std::optional<Account>(read_account(*r, 0));
}

// A statement that returns a row when it changed something.
Result<bool> changed(PgLink& link, Sql sql, std::initializer_list<PgParam> params) {
  Result<PgConnection*> db = link.connection();
  if (!db.is_ok()) return db.status();
  Result<PgResult> r = (*db)->exec(sql, params);
  if (!r.is_ok()) return r.status();
  return r->rows() > 0;
}

// What kLockRefreshToken read.
struct LockedToken {
  std::string id;
  std::string session_id;
  bool spent;
  bool spent_before_grace;
  bool live;
  TokenSubject subject;
};

LockedToken read_locked_token(const PgResult& r) {
  return {r.text(0, 0),
          r.text(0, 1),
          r.boolean(0, 2),
          r.boolean(0, 3),
          r.boolean(0, 4),
          {r.text(0, 5), r.text(0, 6), r.boolean(0, 7), r.boolean(0, 8), r.text(0, 1)}};
}

}  // namespace

Result<std::optional<Account>> PgSessionStore::find_by_username(std::string_view username) {
  return find_account(link_, Sql::kUserByName, PgParam::text(username));
}

Result<std::optional<Account>> PgSessionStore::find_by_id(std::string_view user_id) {
  return find_account(link_, Sql::kUserById, PgParam::uuid(user_id));
}

Result<std::string> PgSessionStore::start(
    const NewSession& s, const std::function<Status(const std::string&)>& before_commit) {
  Result<PgConnection*> conn = link_.connection();
  if (!conn.is_ok()) return conn.status();
  PgConnection& db = **conn;
  Transaction tx(db);
  CHATALOT_RETURN_IF_ERROR(tx.begin_status());
  Result<PgResult> row = db.exec(
      Sql::kStartSession,
      {PgParam::uuid(s.user_id), PgParam::text(sha256_hex(s.refresh_token)),
       PgParam::nullable_text(s.origin.device_name), PgParam::nullable_text(s.origin.ip_address),
       PgParam::nullable_text(s.rehashed_password), text_or_null(s.request_id),
       PgParam::int4(session_days_)});
  if (!row.is_ok()) return row.status();
  std::string session_id = row->text(0, 0);
  CHATALOT_RETURN_IF_ERROR(before_commit(session_id));
  CHATALOT_RETURN_IF_ERROR(tx.commit());
  return session_id;
}

Result<SessionStore::Rotated> PgSessionStore::rotate(
    std::string_view token, std::string_view next_token, int grace_seconds,
    std::string_view request_id, const std::function<Status(const TokenSubject&)>& before_commit) {
  Result<PgConnection*> conn = link_.connection();
  if (!conn.is_ok()) return conn.status();
  PgConnection& db = **conn;
  Transaction tx(db);
  CHATALOT_RETURN_IF_ERROR(tx.begin_status());
  Result<PgResult> row =
      db.exec(Sql::kLockRefreshToken, {PgParam::text(sha256_hex(token)), PgParam::int4(grace_seconds)});
  if (!row.is_ok()) return row.status();
  if (row->rows() == 0) return Rotated{Rotation::kUnknown, ""};
  const LockedToken t = read_locked_token(*row);
  if (t.spent) {
    if (!t.spent_before_grace) return Rotated{Rotation::kLate, t.session_id};
    // Stolen: whoever holds its successor loses the session too.
    Result<PgResult> ended =
        db.exec(Sql::kEndSession, {PgParam::uuid(t.session_id), PgParam::uuid(t.subject.user_id),
                                   PgParam::text("token_reuse"), PgParam::null(PgType::kUuid),
                                   text_or_null(request_id)});
    if (!ended.is_ok()) return ended.status();
    CHATALOT_RETURN_IF_ERROR(tx.commit());
    return Rotated{Rotation::kReused, t.session_id};
  }
  if (!t.live) return Rotated{Rotation::kDead, t.session_id};
  Result<PgResult> rotated =
      db.exec(Sql::kRotateRefreshToken, {PgParam::uuid(t.id), PgParam::uuid(t.session_id),
                                         PgParam::uuid(t.subject.user_id),
                                         PgParam::text(sha256_hex(next_token)),
                                         PgParam::int4(session_days_)});
  if (!rotated.is_ok()) return rotated.status();
  CHATALOT_RETURN_IF_ERROR(before_commit(t.subject));
  CHATALOT_RETURN_IF_ERROR(tx.commit());
  return Rotated{Rotation::kRotated, t.session_id};
}

Status PgSessionStore::end_by_token(std::string_view token, std::string_view request_id) {
  return changed(link_, Sql::kEndSessionByToken,
                 {PgParam::text(sha256_hex(token)), text_or_null(request_id)})
      .status_or_ok();
}

Result<Recovery> PgSessionStore::recover(std::string_view username, std::string_view recovery_code,
                                         std::string_view password_hash,
                                         std::string_view new_recovery_code,
                                         std::string_view request_id) {
  Result<PgConnection*> db = link_.connection();
  if (!db.is_ok()) return db.status();
  Result<PgResult> r = (*db)->exec(
      Sql::kRecover, {PgParam::text(username), PgParam::text(sha256_hex(recovery_code)),
                      PgParam::text(password_hash), PgParam::text(sha256_hex(new_recovery_code)),
                      text_or_null(request_id)});
  if (!r.is_ok()) return r.status();
  if (r->rows() == 0) return Recovery::kNoMatch;
  return r->boolean(0, 0) ? Recovery::kSuspended : Recovery::kRecovered;
}

Result<std::vector<SessionInfo>> PgSessionStore::live_sessions(std::string_view user_id) {
  Result<PgConnection*> db = link_.connection();
  if (!db.is_ok()) return db.status();
  Result<PgResult> r =
      (*db)->exec(Sql::kLiveSessions, {PgParam::uuid(user_id), PgParam::int4(kSessionListLimit)});
  if (!r.is_ok()) return r.status();
  std::vector<SessionInfo> sessions;
  sessions.reserve(static_cast<std::size_t>(r->rows()));
  for (int row = 0; row < r->rows(); ++row) {
    sessions.push_back({r->text(row, 0), r->optional_text(row, 1), r->optional_text(row, 2),
                        r->text(row, 3), r->text(row, 4)});
  }
  return sessions;
}

Result<bool> PgSessionStore::end_session(std::string_view user_id, std::string_view session_id,
                                         std::string_view request_id) {
  return changed(link_, Sql::kEndSession,
                 {PgParam::uuid(session_id), PgParam::uuid(user_id), PgParam::text("revoked"),
                  PgParam::uuid(user_id), text_or_null(request_id)});
}

Result<std::int64_t> PgSessionStore::end_sessions(std::string_view user_id, std::string_view keep,
                                                  std::string_view reason,
                                                  const std::optional<std::string>& actor,
                                                  std::string_view request_id) {
  Result<PgConnection*> db = link_.connection();
  if (!db.is_ok()) return db.status();
  Result<PgResult> r = (*db)->exec(
      Sql::kEndSessions, {PgParam::uuid(user_id), uuid_or_null(keep), PgParam::text(reason),
                          PgParam::nullable_uuid(actor), text_or_null(request_id)});
  if (!r.is_ok()) return r.status();
  return r->int64(0, 0).value_or(0);
}

Status PgSessionStore::change_password(std::string_view user_id, std::string_view password_hash,
                                       std::string_view keep, std::string_view request_id) {
  return changed(link_, Sql::kChangePassword,
                 {PgParam::uuid(user_id), PgParam::text(password_hash), uuid_or_null(keep),
                  text_or_null(request_id)})
      .status_or_ok();
}

Status PgSessionStore::set_recovery_code(std::string_view user_id, std::string_view recovery_code,
                                         std::string_view request_id) {
  return changed(link_, Sql::kSetRecoveryCode,
                 {PgParam::uuid(user_id), PgParam::text(sha256_hex(recovery_code)),
                  text_or_null(request_id)})
      .status_or_ok();
}

Status PgKeyStore::replace(std::string_view user_id, const KeySet& keys, std::string_view request_id) {
  Result<PgConnection*> conn = link_.connection();
  if (!conn.is_ok()) return conn.status();
  PgConnection& db = **conn;
  Transaction tx(db);
  CHATALOT_RETURN_IF_ERROR(tx.begin_status());
  for (const Sql step : {Sql::kLockUser, Sql::kDeleteKeys}) {
    if (Result<PgResult> r = db.exec(step, {PgParam::uuid(user_id)}); !r.is_ok()) return r.status();
  }
  if (Result<PgResult> r = insert_keys(db, user_id, keys); !r.is_ok()) return r.status();
  Result<PgResult> audit =
      db.exec(Sql::kAuditKeys, {PgParam::uuid(user_id),
                                PgParam::int4(static_cast<std::int32_t>(keys.one_time_prekeys.size())),
                                text_or_null(request_id)});
  if (!audit.is_ok()) return audit.status();
  return tx.commit();
}

Result<std::vector<Account>> PgUserAdminStore::list(const UserQuery& query) {
  Result<PgConnection*> db = link_.connection();
  if (!db.is_ok()) return db.status();
  const PgParam limit = PgParam::int4(query.limit);
  const PgParam offset = PgParam::int8(query.offset);
  Result<PgResult> r =
      query.search.empty()
          ? (*db)->exec(Sql::kListUsers, {limit, offset})
          : (*db)->exec(Sql::kSearchUsers, {PgParam::text(query.search), limit, offset});
  if (!r.is_ok()) return r.status();
  std::vector<Account> users;
  users.reserve(static_cast<std::size_t>(r->rows()));
  for (int row = 0; row < r->rows(); ++row) {
    users.push_back(read_account(*r, row));
    users.back().password_hash.clear();
  }
  return users;
}

Result<std::optional<Account>> PgUserAdminStore::find_by_id(std::string_view id) {
  return find_account(link_, Sql::kUserById, PgParam::uuid(id));
}

Result<std::optional<Account>> PgUserAdminStore::find_by_username(std::string_view username) {
  return find_account(link_, Sql::kUserByName, PgParam::text(username));
}

Result<bool> PgUserAdminStore::set_admin(std::string_view id, bool is_admin, const Actor& actor,
                                         std::string_view request_id) {
  return changed(link_, Sql::kSetAdmin,
                 {PgParam::uuid(id), PgParam::boolean(is_admin), PgParam::nullable_uuid(actor.id),
                  text_or_null(request_id)});
}

Result<bool> PgUserAdminStore::suspend(std::string_view id, const std::optional<std::string>& reason,
                                       const Actor& actor, std::string_view request_id) {
  return changed(link_, Sql::kSuspendUser,
                 {PgParam::uuid(id), PgParam::nullable_text(reason),
                  PgParam::nullable_uuid(actor.id), text_or_null(request_id)});
}

Result<bool> PgUserAdminStore::unsuspend(std::string_view id, const Actor& actor,
                                         std::string_view request_id) {
  return changed(link_, Sql::kUnsuspendUser,
                 {PgParam::uuid(id), PgParam::nullable_uuid(actor.id), text_or_null(request_id)});
}

}  // namespace chatalot
