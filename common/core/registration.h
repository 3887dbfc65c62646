// POST /api/auth/register as a domain function (SPEC section 3): the per-address limit, the
// body's checks in the contract's order, a read-only look at uniqueness and the invite, the
// password hash outside any transaction, then one transaction in the AccountStore that creates
// the account with its keys, consumes the invite, claims ownership of a fresh instance and
// starts the account's first session with its refresh token and writes the audit record. The access token is signed inside that
// transaction, before the commit, so an account is never created without its answer.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "core/invites.h"
#include "core/ports.h"
#include "core/sessions.h"
#include "core/status.h"
#include "core/validation.h"

namespace chatalot {

// What a registration stores, secrets in the clear: the store keeps only their hashes.
struct NewAccount {
  RegistrationInput input;
  std::string password_hash;  // PHC string
  std::string recovery_code;
  std::string refresh_token;
  std::optional<std::string> invite_code;  // normalised; one use is consumed (invite_only)
  std::string request_id;
  SessionOrigin origin;  // of the session the registration starts
};

struct CreatedAccount {
  std::string id;
  std::string created_at;  // RFC 3339 UTC
  bool is_owner = false;   // the first account: owner and admin
  std::optional<std::string> invite_id;
  std::string session_id;  // the session the registration started
};

class AccountStore {
 public:
  virtual ~AccountStore() = default;
  struct Taken {
    bool username = false;  // ignoring case
    bool email = false;
  };
  virtual Result<Taken> taken(std::string_view username, std::string_view email) = 0;
  // One transaction; before_commit runs in it once every row is written, and its failure rolls
  // all back. A concurrent twin is kAlreadyExists (Msg::kUsernameTaken or Msg::kEmailTaken); an
  // invite used up meanwhile is kInvalidArgument (Msg::kInviteInvalid).
  virtual Result<CreatedAccount> create(
      const NewAccount& account, const std::function<Status(const CreatedAccount&)>& before_commit) = 0;
  // ADMIN_USERNAME: makes that account (ignoring case) an admin if it is not one yet, audited;
  // returns "name (id)" when it promoted someone.
  virtual Result<std::optional<std::string>> promote_admin(std::string_view username) = 0;
};

// From the configuration (config/config.cc holds the defaults).
struct RegistrationPolicy {
  RegistrationMode mode;
  RateLimit register_limit;       // attempts per client address
  RateLimit invite_limit;         // invite attempts per client address
  RateLimit invite_network_limit;  // invite attempts per network (IPv4 /24, IPv6 /48)
};

struct RegistrationDeps {
  const RegistrationPolicy& policy;
  AccountStore& accounts;
  InviteStore& invites;
  Limiter& limiter;
  PasswordHasher& hasher;
  const TokenSigner& signer;
  const KeyChecks& keys;
  const Clock& clock;
  Random& random;
};

struct RegistrationRequest {
  std::string_view body;
  std::string_view remote_addr;
  std::string_view request_id;
  std::string_view user_agent;
};

// The Chatalot AuthResponse's content.
struct Registered {
  std::string access_token;
  std::string refresh_token;
  std::string recovery_code;
  std::string user_id;
  std::string username;
  std::string display_name;
  bool is_owner = false;
  std::string created_at;
};

Result<Registered> register_account(const RegistrationRequest& request, RegistrationDeps& deps);

}  // namespace chatalot
