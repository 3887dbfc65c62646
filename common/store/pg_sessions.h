// The stores of sessions, keys and the admin's user management over PostgreSQL
// (core/sessions.h, core/account.h, core/users.h). As the stores of pg_stores.h: a connection
// from the worker's PgLink on every call, only SHA-256 digests of refresh tokens and recovery
// codes written, races left to the database (row locks, conditional updates, one statement or
// one transaction per change). Used by one worker thread (as its PgLink is).
#pragma once

#include "core/account.h"
#include "core/sessions.h"
#include "core/users.h"
#include "store/pg.h"

namespace chatalot {

class PgSessionStore final : public SessionStore {
 public:
  // session_days: SESSION_DAYS, how long a session lasts after its start or last refresh.
  PgSessionStore(PgLink& link, int session_days) : link_(link), session_days_(session_days) {}
  Result<std::optional<Account>> find_by_username(std::string_view username) override;
  Result<std::optional<Account>> find_by_id(std::string_view user_id) override;
  Result<std::string> start(const NewSession& session,
                            const std::function<Status(const std::string&)>& before_commit) override;
  Result<Rotated> rotate(std::string_view token, std::string_view next_token, int grace_seconds,
                         std::string_view request_id,
                         const std::function<Status(const TokenSubject&)>& before_commit) override;
  Status end_by_token(std::string_view token, std::string_view request_id) override;
  Result<Recovery> recover(std::string_view username, std::string_view recovery_code,
                           std::string_view password_hash, std::string_view new_recovery_code,
                           std::string_view request_id) override;
  Result<std::vector<SessionInfo>> live_sessions(std::string_view user_id) override;
  Result<bool> end_session(std::string_view user_id, std::string_view session_id,
                           std::string_view request_id) override;
  Result<std::int64_t> end_sessions(std::string_view user_id, std::string_view keep,
                                    std::string_view reason, const std::optional<std::string>& actor,
                                    std::string_view request_id) override;
  Status change_password(std::string_view user_id, std::string_view password_hash,
                         std::string_view keep, std::string_view request_id) override;
  Status set_recovery_code(std::string_view user_id, std::string_view recovery_code,
                           std::string_view request_id) override;

 private:
  PgLink& link_;
  int session_days_;
};

class PgKeyStore final : public KeyStore {
 public:
  explicit PgKeyStore(PgLink& link) : link_(link) {}
  Status replace(std::string_view user_id, const KeySet& keys, std::string_view request_id) override;

 private:
  PgLink& link_;
};

class PgUserAdminStore final : public UserAdminStore {
 public:
  explicit PgUserAdminStore(PgLink& link) : link_(link) {}
  Result<std::vector<Account>> list(const UserQuery& query) override;
  Result<std::optional<Account>> find_by_id(std::string_view id) override;
  Result<std::optional<Account>> find_by_username(std::string_view username) override;
  Result<bool> set_admin(std::string_view id, bool is_admin, const Actor& actor,
                         std::string_view request_id) override;
  Result<bool> suspend(std::string_view id, const std::optional<std::string>& reason,
                       const Actor& actor, std::string_view request_id) override;
  Result<bool> unsuspend(std::string_view id, const Actor& actor, std::string_view request_id) override;

 private:
  PgLink& link_;
};

}  // namespace chatalot
