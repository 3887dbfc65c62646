// The domain's stores over PostgreSQL (core/registration.h, core/invites.h, core/auth.h). Each
// takes its connection from the worker's PgLink on every call, so a connection that broke is
// replaced on the next request. Secrets arrive in the clear and only their SHA-256 is written.
// Races are the database's: unique indexes, a conditional UPDATE per invite use, a one-row
// owner table (sql/001_initial.sql). Used by one worker thread (as its PgLink is).
#pragma once

#include "core/auth.h"
#include "core/invites.h"
#include "core/registration.h"
#include "store/pg.h"

namespace chatalot {

// Inserts an account's E2E keys (registration, key upload); the caller's transaction.
Result<PgResult> insert_keys(PgConnection& db, std::string_view user_id, const KeySet& keys);

class PgAccountStore final : public AccountStore {
 public:
  // session_days: SESSION_DAYS, the first session's lifetime.
  PgAccountStore(PgLink& link, int session_days) : link_(link), session_days_(session_days) {}
  Result<Taken> taken(std::string_view username, std::string_view email) override;
  Result<CreatedAccount> create(
      const NewAccount& account,
      const std::function<Status(const CreatedAccount&)>& before_commit) override;
  Result<std::optional<std::string>> promote_admin(std::string_view username) override;

 private:
  PgLink& link_;
  int session_days_;
};

class PgInviteStore final : public InviteStore {
 public:
  explicit PgInviteStore(PgLink& link) : link_(link) {}
  Result<std::optional<UsableInvite>> find_usable(std::string_view code) override;
  Result<Invite> create(const NewInvite& invite) override;
  Result<std::vector<Invite>> list(int limit, bool include_revoked) override;
  Result<std::optional<Invite>> revoke(std::string_view id, const std::optional<std::string>& actor,
                                       std::string_view request_id) override;

 private:
  PgLink& link_;
};

class PgUserDirectory final : public UserDirectory {
 public:
  explicit PgUserDirectory(PgLink& link) : link_(link) {}
  Result<std::optional<Roles>> roles(std::string_view user_id) override;

 private:
  PgLink& link_;
};

}  // namespace chatalot
