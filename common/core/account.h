// The account's own endpoints (SPEC section 3, "The session lifecycle" and "Keys"), for a caller
// that authenticate() (core/auth.h) has let in: the account itself, its sessions, its password,
// its recovery code and its E2E keys.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/auth.h"
#include "core/sessions.h"
#include "core/validation.h"

namespace chatalot {

class KeyStore {
 public:
  virtual ~KeyStore() = default;
  // One transaction: the account's identity key, signed prekey and one-time prekeys replaced
  // by these, audited.
  virtual Status replace(std::string_view user_id, const KeySet& keys, std::string_view request_id) = 0;
};

// GET /api/account/me: the bearer rules of authenticate() and the account they admit, from one
// read of the account (its row holds the roles and the suspension the rules check): one query a
// request instead of two. Refusals as authenticate()'s.
Result<Account> my_account(std::string_view authorization, const TokenVerifier& verifier,
                           const Clock& clock, SessionStore& sessions);

// GET /api/account/sessions.
Result<std::vector<SessionInfo>> my_sessions(const Caller& caller, SessionStore& sessions);

// DELETE /api/account/sessions/{id}: 404 Msg::kSessionNotFound for an id that is no live
// session of the caller's (another account's, or no UUID).
Status end_my_session(const Caller& caller, std::string_view session_id, std::string_view request_id,
                      SessionStore& sessions);

// POST /api/account/logout-all: ends every live session, the caller's included; how many.
Result<std::int64_t> end_all_my_sessions(const Caller& caller, std::string_view request_id,
                                         SessionStore& sessions);

struct PasswordChangeDeps {
  const CredentialLimits& limits;
  SessionStore& sessions;
  Limiter& limiter;
  PasswordHasher& hasher;
};

// PUT /api/account/password: the body's types and the new password's rules (400), the failure
// budgets (429, as login's), the current password verified (401 Msg::kPasswordInvalid), then
// the new hash stored and every other session ended.
Status change_password(const Caller& caller, std::string_view body, std::string_view remote_addr,
                       std::string_view request_id, PasswordChangeDeps& deps);

// POST /api/account/regenerate-recovery-code: the new code, shown once.
Result<std::string> regenerate_recovery_code(const Caller& caller, std::string_view request_id,
                                             SessionStore& sessions, Random& random);

// POST /api/keys/register: the registration's key checks and messages, then the keys replaced.
Status register_keys(const Caller& caller, std::string_view body, std::string_view request_id,
                     const KeyChecks& checks, KeyStore& keys);

}  // namespace chatalot
