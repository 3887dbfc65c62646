// Configuration from the environment, read once at process start (SPEC section 2).
//
// Every variable is one typed row of the table in config.cc: its name, its default (written
// there only; the mode's is kDefaultRegistrationMode), the Need bits that make it required,
// whether it is secret, and the Config member it fills with its range. README.md's "Configuration"
// table documents the same rows; tests/unit/readme_config_test.cc keeps the two in step.
//
// load_config() reports every problem at once; executables print them and exit with
// kExitConfig. describe_config() gives the effective configuration with secrets redacted, for
// --check-config.
//
// Ownership: a Config is a plain value owned by whoever loaded it; the table is static and
// immutable, so the span of config_variables() stays valid for the whole program.
// Thread-safety: every function is pure over its arguments. process_env() reads the process
// environment with getenv(), which races with setenv(): load before starting threads.
#pragma once

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "config/address_list.h"
#include "core/mode.h"
#include "core/ports.h"
#include "core/sessions.h"
#include "core/status.h"
#include "store/pg_options.h"

namespace chatalot {

inline constexpr int kExitConfig = 78;  // EX_CONFIG from sysexits.h

// The one default Config states itself (see Config): the table's row is written from it.
inline constexpr RegistrationMode kDefaultRegistrationMode = RegistrationMode::kInviteOnly;

// What an executable uses; a variable marked as needed by any of these is required there.
enum Need : unsigned {
  kNeedNothing = 0,
  kNeedDatabase = 1U << 0,
  kNeedRedis = 1U << 1,
  kNeedJwtSign = 1U << 2,
  kNeedJwtVerify = 1U << 3,
};

// The members carry no defaults: those live in the table, and default_config() is what an
// empty environment gives. Config{} is zero and empty, except that the mode is the default:
// kOpen is the enum's zero, and a Config built by hand (tests) must not open registration.
struct Config {
  RegistrationMode registration_mode = kDefaultRegistrationMode;
  std::string admin_username;
  std::string public_url;
  std::string database_url;
  std::string redis_url;
  std::string jwt_private_key_path;
  std::string jwt_public_key_path;
  int worker_threads{};
  int request_timeout_ms{};  // one deadline per FastCGI request, from its first byte
  int idle_timeout_ms{};     // a kept FastCGI connection with no request begun is closed after it
  int max_connections{};     // FastCGI connections per process; 0: what the descriptor limit allows
  AddressList fastcgi_allowed_addresses;  // TCP FastCGI peers served; empty: any
  int argon2_memory_kib{};
  int argon2_iterations{};
  int argon2_max_concurrent{};  // hashes at once per process; each holds argon2_memory_kib
  int db_statement_timeout_ms{};
  bool database_transaction_pooling{};  // DATABASE_POOLING=transaction (store/pg_options.h)
  int redis_timeout_ms{};
  bool rate_limit_fail_open{};
  RateLimit invite_limit{};         // invite checks per client address
  RateLimit invite_network_limit{};  // failed invite checks per network (IPv4 /24, IPv6 /48)
  RateLimit register_limit{};       // registration attempts per client address
  // Failed secrets (login, recovery, password change): per address, per (account, address),
  // per account.
  RateLimit login_limit{};
  RateLimit login_account_address_limit{};
  RateLimit login_account_limit{};
  int refresh_reuse_grace_seconds{};  // a spent refresh token's late twin fails without harm
  int access_token_seconds{};  // an access token's lifetime
  int session_days{};          // a session ends this long after its last refresh
};

// The failure budgets of login, recovery and password change (core/sessions.h).
inline CredentialLimits credential_limits(const Config& c) {
  return {c.login_limit, c.login_account_address_limit, c.login_account_limit};
}

// The handlers' PostgreSQL connections.
inline PgOptions pg_options(const Config& c) {
  return {c.database_url, c.db_statement_timeout_ms, c.database_transaction_pooling};
}

// Looks a variable up; nullptr when unset. The default reads the process environment.
using EnvLookup = std::function<const char*(const char*)>;
EnvLookup process_env();

// On failure: Code::kFailedPrecondition, and detail() holds one line per problem, in table
// order ("NAME: what is wrong"), for the operator; message() is the generic client text.
Result<Config> load_config(const EnvLookup& env, unsigned needs);

// Every variable at its default: load_config() of an empty environment with no needs.
Config default_config();

// One NAME=value line per variable, in table order, secrets redacted.
std::string describe_config(const Config& config);

// "postgresql://u:secret@h/db" -> "postgresql://u:***@h/db"; "password=x" -> "password=***".
std::string redact_secrets(std::string_view url);

// A row of the table as documentation sees it.
struct VariableInfo {
  std::string_view name;
  std::optional<std::string_view> default_text;  // nullopt: unset unless given
  unsigned required_by;                          // Need bits that make it required
  bool secret;                                   // redacted by describe_config
};

// Every variable, in table order.
std::span<const VariableInfo> config_variables();

}  // namespace chatalot
