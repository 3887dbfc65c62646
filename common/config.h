// Configuration from the environment, read once at process start (SPEC section 2).
//
// Every variable is one row of a declarative table in config.cc (name, default, which
// executables need it, whether it is secret, how it is parsed). load_config() reports every
// problem at once; executables print them and exit with kExitConfig. describe_config() gives
// the effective configuration with secrets redacted, for --check-config. Thread-safe: pure
// functions over their arguments.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "status.h"

namespace chatalot {

inline constexpr int kExitConfig = 78;  // EX_CONFIG from sysexits.h

enum class RegistrationMode { kOpen, kInviteOnly, kClosed };
std::string_view to_string(RegistrationMode mode);

// What an executable uses; a variable marked as needed by any of these is required there.
enum Need : unsigned {
  kNeedNothing = 0,
  kNeedDatabase = 1U << 0,
  kNeedRedis = 1U << 1,
  kNeedJwtSign = 1U << 2,
  kNeedJwtVerify = 1U << 3,
};

// A GCRA limit: a sustained rate and the burst allowed on top of it.
struct RateLimit {
  double per_second;
  double burst;
};

struct Config {
  RegistrationMode registration_mode = RegistrationMode::kInviteOnly;
  std::string admin_username;
  std::string public_url;
  std::string database_url;
  std::string redis_url;
  std::string jwt_private_key_path;
  std::string jwt_public_key_path;
  int worker_threads = 16;
  int request_timeout_ms = 30000;
  int argon2_memory_kib = 64 * 1024;
  int argon2_iterations = 3;
  int argon2_max_concurrent = 2;  // hashes at once per process; each holds argon2_memory_kib
  int db_statement_timeout_ms = 5000;
  int redis_timeout_ms = 250;
  bool rate_limit_fail_open = false;
  RateLimit invite_limit{0.1, 5};            // invite checks per client address
  RateLimit invite_global_limit{1.0, 100};   // failed invite checks, all addresses together
  RateLimit register_limit{0.05, 5};         // registration attempts per client address
};

// Looks a variable up; nullptr when unset. The default reads the process environment.
using EnvLookup = std::function<const char*(const char*)>;
EnvLookup process_env();

// On failure the Status message holds one line per problem, in table order.
Result<Config> load_config(const EnvLookup& env, unsigned needs);

// One NAME=value line per variable, secrets redacted.
std::string describe_config(const Config& config);

// "postgresql://u:secret@h/db" -> "postgresql://u:***@h/db"; "password=x" -> "password=***".
std::string redact_secrets(std::string_view url);

}  // namespace chatalot
