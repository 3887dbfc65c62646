#include "core/account.h"

#include "core/codes.h"
#include "core/json.h"
#include "core/limits.h"
#include "core/text.h"

namespace chatalot {
namespace {

Status session_not_found() { return {Code::kNotFound, Msg::kSessionNotFound}; }

}  // namespace

namespace {

// The directory authenticate() asks, answered from the whole account, which it keeps.
class AccountLookup final : public UserDirectory {
 public:
  explicit AccountLookup(SessionStore& sessions) : sessions_(sessions) {}
  Result<std::optional<Roles>> roles(std::string_view user_id) override {
    Result<std::optional<Account>> found = sessions_.find_by_id(user_id);
    if (!found.is_ok()) return found.status();
    account_ = std::move(found).value();
    if (!account_) return std::optional<Roles>();
    return std::optional<Roles>(Roles{account_->is_admin, account_->is_owner, account_->suspended_at.has_value()});
  }
  std::optional<Account>& account() { return account_; }

 private:
  SessionStore& sessions_;
  std::optional<Account> account_;
};

}  // namespace

Result<Account> my_account(std::string_view authorization, const TokenVerifier& verifier,
                           const Clock& clock, SessionStore& sessions) {
  AccountLookup lookup(sessions);
  AuthDeps deps{verifier, clock, lookup};
  Result<Caller> caller = authenticate(authorization, deps);
  if (!caller.is_ok()) return caller.status();
  Account out = std::move(*lookup.account());  // authenticate() admits only a found account
  out.password_hash.clear();  // never leaves the domain
  return out;
}

Result<std::vector<SessionInfo>> my_sessions(const Caller& caller, SessionStore& sessions) {
  return sessions.live_sessions(caller.user_id);
}

Status end_my_session(const Caller& caller, std::string_view session_id, std::string_view request_id,
                      SessionStore& sessions) {
  // Anything else would be a PostgreSQL error (invalid input syntax), not an unknown session.
  if (!is_uuid(session_id)) return session_not_found();
  Result<bool> ended = sessions.end_session(caller.user_id, session_id, request_id);
  if (!ended.is_ok()) return ended.status();
  return *ended ? Status::ok() : session_not_found();
}

Result<std::int64_t> end_all_my_sessions(const Caller& caller, std::string_view request_id,
                                         SessionStore& sessions) {
  return sessions.end_sessions(caller.user_id, "", "logout_all", caller.user_id, request_id);
}

Status change_password(const Caller& caller, std::string_view body, std::string_view remote_addr,
                       std::string_view request_id, PasswordChangeDeps& deps) {
  Result<rapidjson::Document> doc = parse_json_object(body);
  if (!doc.is_ok()) return doc.status();
  Result<std::string_view> current =
      string_field(*doc, "current_password", Msg::kCurrentPasswordNotString);
  if (!current.is_ok()) return current.status();
  Result<std::string_view> next = string_field(*doc, "new_password", Msg::kNewPasswordNotString);
  if (!next.is_ok()) return next.status();
  CHATALOT_RETURN_IF_ERROR(check_password(*next));

  // As login's, per address and per account (the account is known: its id is the key).
  FailureBudgets budgets(
      deps.limiter,
      {{"chatalot:rl:password:addr:" + client_key(remote_addr), deps.limits.per_address},
       {"chatalot:rl:password:acct:" + caller.user_id, deps.limits.per_account}});
  CHATALOT_RETURN_IF_ERROR(budgets.begin());
  Result<std::optional<Account>> account = deps.sessions.find_by_id(caller.user_id);
  if (!account.is_ok() || !account->has_value()) {
    budgets.gave_back();  // nothing was tried
    return account.is_ok() ? Status(Code::kUnauthenticated, Msg::kTokenInvalid) : account.status();
  }
  Result<bool> verified = deps.hasher.verify((*account)->password_hash, *current);
  if (!verified.is_ok()) {
    budgets.gave_back();
    return verified.status();
  }
  if (!*verified) return Status(Code::kUnauthenticated, Msg::kPasswordInvalid);
  budgets.succeeded();
  Result<std::string> hash = deps.hasher.hash(*next);
  if (!hash.is_ok()) return hash.status();
  return deps.sessions.change_password(caller.user_id, *hash, caller.session_id, request_id);
}

Result<std::string> regenerate_recovery_code(const Caller& caller, std::string_view request_id,
                                             SessionStore& sessions, Random& random) {
  Result<std::string> code = generate_recovery_code(random);
  if (!code.is_ok()) return code.status();
  CHATALOT_RETURN_IF_ERROR(sessions.set_recovery_code(caller.user_id, *code, request_id));
  return code;
}

Status register_keys(const Caller& caller, std::string_view body, std::string_view request_id,
                     const KeyChecks& checks, KeyStore& keys) {
  Result<rapidjson::Document> doc = parse_json_object(body);
  if (!doc.is_ok()) return doc.status();
  Result<KeySet> key_set = validate_key_set(*doc, checks);
  if (!key_set.is_ok()) return key_set.status();
  return keys.replace(caller.user_id, *key_set, request_id);
}

}  // namespace chatalot
