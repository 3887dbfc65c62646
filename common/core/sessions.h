// Sessions in the domain (SPEC section 3, "The session lifecycle"): login, refresh, recovery and
// logout, over the SessionStore.
//
// A session is the chain of refresh tokens of one registration or login. Each refresh spends the
// presented token and stores its successor in one transaction (the store's), so two concurrent
// uses of one token give exactly one success. A spent token presented again more than the grace
// window after it was spent ends its session (refresh token rotation with reuse detection, OAuth
// 2.0 Security BCP); within the window only the late request fails, so two tabs racing do not
// end it. A session expires SESSION_DAYS (30) days after its last refresh.
//
// Secrets (refresh tokens, recovery codes, passwords) reach the store in the clear or as PHC
// strings; the store keeps only SHA-256 digests and PHC strings.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ports.h"
#include "core/status.h"

namespace chatalot {

// The contract's session lifetime: SESSION_DAYS' default (config_test keeps them equal). The
// stores take the configured one.
inline constexpr std::int64_t kSessionDays = 30;

// Where a session was started, shown in the session list.
struct SessionOrigin {
  std::optional<std::string> device_name;  // from the User-Agent (device_name())
  std::optional<std::string> ip_address;
};

// "Firefox on Linux", "Chrome on Android", ...: a short name for a User-Agent header; the
// header's first product, bounded and without control or bidirectional characters, when it is
// none of the browsers we know; nullopt when empty.
std::optional<std::string> device_name(std::string_view user_agent);

// An account as the session and admin endpoints read it (the Chatalot UserPublic and AdminUser).
struct Account {
  std::string id;
  std::string username;
  std::string display_name;
  std::string email;
  std::optional<std::string> avatar_url;
  std::optional<std::string> banner_url;
  std::string status = "offline";
  std::optional<std::string> custom_status;
  bool is_admin = false;
  bool is_owner = false;
  std::optional<std::string> suspended_at;
  std::optional<std::string> suspended_reason;
  std::string created_at;
  std::optional<std::string> invite_id;
  std::string password_hash;  // PHC string; only where the lookup says it is filled
};

struct SessionInfo {
  std::string id;
  std::optional<std::string> device_name;
  std::optional<std::string> ip_address;
  std::string created_at;
  std::string expires_at;
};

// Whom an access token is signed for, as the database says now.
struct TokenSubject {
  std::string user_id;
  std::string username;
  bool is_admin = false;
  bool is_owner = false;
  std::string session_id;
};

struct NewSession {
  std::string user_id;
  std::string refresh_token;  // the first of the chain
  SessionOrigin origin;
  std::optional<std::string> rehashed_password;  // replaces the stored PHC string when given
  std::string request_id;
};

enum class Rotation {
  kRotated,  // the token was live: spent, and its successor stored
  kUnknown,  // no such token
  kDead,     // its session ended or expired, or the account is suspended
  kLate,     // spent within the grace window: only this request fails
  kReused,   // spent before the grace window: the session was ended now
};

enum class Recovery { kRecovered, kNoMatch, kSuspended };

// Used by one worker thread at a time.
class SessionStore {
 public:
  virtual ~SessionStore() = default;
  // The account of a username ignoring case, password_hash filled; nullopt when none.
  virtual Result<std::optional<Account>> find_by_username(std::string_view username) = 0;
  // The account of a user id (a canonical UUID), password_hash filled; nullopt when none.
  virtual Result<std::optional<Account>> find_by_id(std::string_view user_id) = 0;
  // One transaction: the session, its first refresh token, the rehashed password if any, and
  // the audit record; before_commit(session id) runs in it last, and its failure rolls back.
  virtual Result<std::string> start(const NewSession& session,
                                    const std::function<Status(const std::string&)>& before_commit) = 0;
  // One transaction: spends token and stores next_token in its session (renewing the session's
  // 30 days) when the token is live, the session too and the account not suspended;
  // before_commit(subject) runs in it last. A token spent more than grace_seconds ago ends its
  // session (audited). session_id is filled for every outcome but kUnknown.
  struct Rotated {
    Rotation outcome = Rotation::kUnknown;
    std::string session_id;
  };
  virtual Result<Rotated> rotate(std::string_view token, std::string_view next_token,
                                 int grace_seconds, std::string_view request_id,
                                 const std::function<Status(const TokenSubject&)>& before_commit) = 0;
  // Ends the session of a refresh token, spent or not, if it is live; nothing when unknown.
  virtual Status end_by_token(std::string_view token, std::string_view request_id) = 0;
  // One transaction, when username (ignoring case) has recovery_code (normalised) and is not
  // suspended: sets the password and the recovery code, ends every session, audits.
  virtual Result<Recovery> recover(std::string_view username, std::string_view recovery_code,
                                   std::string_view password_hash,
                                   std::string_view new_recovery_code,
                                   std::string_view request_id) = 0;
  // The live sessions of an account, newest first (at most kSessionListLimit).
  virtual Result<std::vector<SessionInfo>> live_sessions(std::string_view user_id) = 0;
  // Ends one live session of the account; false when it has no such live session.
  virtual Result<bool> end_session(std::string_view user_id, std::string_view session_id,
                                   std::string_view request_id) = 0;
  // Ends every live session of the account but `keep` ("" for none), with a reason for the
  // record (logout_all, password_change); returns how many. actor: nullopt for the shell.
  virtual Result<std::int64_t> end_sessions(std::string_view user_id, std::string_view keep,
                                            std::string_view reason,
                                            const std::optional<std::string>& actor,
                                            std::string_view request_id) = 0;
  // One transaction: the new PHC string, and every session but `keep` ended, audited.
  virtual Status change_password(std::string_view user_id, std::string_view password_hash,
                                 std::string_view keep, std::string_view request_id) = 0;
  // Replaces the recovery code (normalised), audited.
  virtual Status set_recovery_code(std::string_view user_id, std::string_view recovery_code,
                                   std::string_view request_id) = 0;
};

// A bound on one account's session list.
inline constexpr int kSessionListLimit = 1000;

// The budgets of failed secrets (login, recovery, password change), from the configuration:
// per client address, per (account, address) and per account (README, "Sessions").
struct CredentialLimits {
  RateLimit per_address;
  RateLimit per_account_address;
  RateLimit per_account;
};

struct SessionRequest {
  std::string_view body;
  std::string_view remote_addr;
  std::string_view user_agent;
  std::string_view request_id;
};

// The Chatalot AuthResponse without its recovery code (login).
struct SignedIn {
  std::string access_token;
  std::string refresh_token;
  Account account;
};

struct TokenPair {
  std::string access_token;
  std::string refresh_token;
};

struct LoginDeps {
  const CredentialLimits& limits;
  SessionStore& sessions;
  Limiter& limiter;
  PasswordHasher& hasher;
  const TokenSigner& signer;
  const Clock& clock;
  Random& random;
};

// POST /api/auth/login. The body's types (400), the three failure budgets (429, refused even
// with the right password), the account and its password verified (a dummy hash of the
// configured cost for an unknown account: 401 Msg::kInvalidCredentials either way), 403
// Msg::kAccountSuspended, then a new session; the hash is replaced when its parameters are not
// the configured ones.
Result<SignedIn> login(const SessionRequest& request, LoginDeps& deps);

struct RefreshDeps {
  int grace_seconds;
  SessionStore& sessions;
  const TokenSigner& signer;
  const Clock& clock;
  Random& random;
};

// POST /api/auth/refresh: 400 Msg::kRefreshTokenNotString; any string that is not a live token
// is 401 Msg::kRefreshTokenInvalid. The access token carries the database's roles now.
Result<TokenPair> refresh(const SessionRequest& request, RefreshDeps& deps);

// POST /api/auth/logout: ends the token's session; 200 for any string (idempotent).
Status logout(const SessionRequest& request, SessionStore& sessions);

struct RecoverDeps {
  const CredentialLimits& limits;
  SessionStore& sessions;
  Limiter& limiter;
  PasswordHasher& hasher;
  Random& random;
};

// POST /api/auth/recover: the body's types and the new password's rules (400, the registration
// messages), the budgets (429), the new password hashed whatever follows (the same work for
// every answer), then 400 Msg::kRecoveryInvalid or 403 Msg::kAccountSuspended, or the new
// recovery code (shown once).
Result<std::string> recover(const SessionRequest& request, RecoverDeps& deps);

// Access claims for a subject, valid lifetime_seconds from now.
AccessClaims claims_for(const TokenSubject& subject, std::string jti, std::int64_t now,
                        std::int64_t lifetime_seconds);

}  // namespace chatalot
