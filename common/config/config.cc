#include "config/config.h"

#include <array>
#include <cstdlib>
#include <variant>

#include "core/text.h"

namespace chatalot {
namespace {

// Each kind of row parses text into its member and shows the member back. parse() returns the
// problem, "" when fine. Problems quote the text as given, so stray blanks show; a URL that may
// hold a password is redacted first.

std::string got(std::string_view text) { return ", got \"" + std::string(text) + "\""; }

struct Integer {
  int Config::*member;
  int min;
  int max;

  [[nodiscard]] std::string parse(std::string_view text, Config& config) const {
    const std::optional<int> value = parse_integer<int>(trim_ascii(text));
    if (!value || *value < min || *value > max) {
      return "must be an integer between " + std::to_string(min) + " and " + std::to_string(max) +
             got(text);
    }
    config.*member = *value;
    return "";
  }
  [[nodiscard]] std::string show(const Config& config) const {
    return std::to_string(config.*member);
  }
};

// Only rate limits hold fractional numbers, so this kind reaches into a RateLimit.
struct Number {
  RateLimit Config::*limit;
  double RateLimit::*part;
  double min;
  double max;

  [[nodiscard]] std::string parse(std::string_view text, Config& config) const {
    const std::string t(trim_ascii(text));
    char* end = nullptr;
    const double value = t.empty() ? 0 : std::strtod(t.c_str(), &end);
    if (t.empty() || end != t.c_str() + t.size() || !(value >= min && value <= max)) {
      // The bounds are spelt as they always were ("1.0000"), so the messages stay the same.
      return "must be a number between " + std::to_string(min).substr(0, 6) + " and " +
             std::to_string(static_cast<long long>(max)) + got(text);
    }
    config.*limit.*part = value;
    return "";
  }
  [[nodiscard]] std::string show(const Config& config) const {
    std::string s = std::to_string(config.*limit.*part);
    while (s.back() == '0') s.pop_back();
    if (s.back() == '.') s.pop_back();
    return s;
  }
};

struct Flag {
  bool Config::*member;

  [[nodiscard]] std::string parse(std::string_view text, Config& config) const {
    const std::string v = ascii_lower(trim_ascii(text));
    if (v == "true" || v == "1" || v == "yes" || v == "on") {
      config.*member = true;
    } else if (v == "false" || v == "0" || v == "no" || v == "off" || v.empty()) {
      config.*member = false;
    } else {
      return "must be true or false" + got(text);
    }
    return "";
  }
  [[nodiscard]] std::string show(const Config& config) const {
    return config.*member ? "true" : "false";
  }
};

struct Text {
  std::string Config::*member;

  [[nodiscard]] std::string parse(std::string_view text, Config& config) const {
    config.*member = std::string(trim_ascii(text));
    return "";
  }
  [[nodiscard]] std::string show(const Config& config) const { return config.*member; }
};

// Checked here so that a typo stops the start rather than the first limit check.
struct RedisUrl {
  std::string Config::*member;

  [[nodiscard]] std::string parse(std::string_view text, Config& config) const {
    const std::string v(trim_ascii(text));
    if (!v.empty() && !v.starts_with("redis://") && !v.starts_with("unix://") &&
        !v.starts_with("redis+cluster://")) {
      return "must start with redis:// or unix:// (redis+cluster:// for a Redis Cluster)" +
             got(redact_secrets(v));
    }
    config.*member = v;
    return "";
  }
  [[nodiscard]] std::string show(const Config& config) const { return config.*member; }
};

struct Mode {
  RegistrationMode Config::*member;

  [[nodiscard]] std::string parse(std::string_view text, Config& config) const {
    const std::string v = ascii_lower(trim_ascii(text));
    if (v.empty()) {  // as "KEY=" in a unit file
      config.*member = kDefaultRegistrationMode;
    } else if (v == "open") {
      config.*member = RegistrationMode::kOpen;
    } else if (v == "invite_only") {
      config.*member = RegistrationMode::kInviteOnly;
    } else if (v == "closed") {
      config.*member = RegistrationMode::kClosed;
    } else {
      return "invalid value \"" + std::string(text) +
             "\"; valid values are open, invite_only, closed";
    }
    return "";
  }
  [[nodiscard]] std::string show(const Config& config) const {
    return std::string(to_string(config.*member));
  }
};

// How statements reach PostgreSQL: "session" (direct, or a pooler in session mode: prepared
// statements) or "transaction" (a pooler in transaction mode: no session state).
struct Pooling {
  bool Config::*transaction;

  [[nodiscard]] std::string parse(std::string_view text, Config& config) const {
    const std::string v = ascii_lower(trim_ascii(text));
    if (v != "session" && v != "transaction" && !v.empty()) {
      return "must be session or transaction" + got(text);
    }
    config.*transaction = v == "transaction";
    return "";
  }
  [[nodiscard]] std::string show(const Config& config) const {
    return config.*transaction ? "transaction" : "session";
  }
};

// Parsed here, so that a typo stops the start rather than refusing nginx at accept.
struct Addresses {
  AddressList Config::*member;

  [[nodiscard]] std::string parse(std::string_view text, Config& config) const {
    Result<AddressList> list = AddressList::parse(text);
    if (!list.is_ok()) return list.status().describe() + got(text);
    config.*member = std::move(*list);
    return "";
  }
  [[nodiscard]] std::string show(const Config& config) const {
    return (config.*member).to_string();
  }
};

using Field = std::variant<Integer, Number, Flag, Text, RedisUrl, Mode, Pooling, Addresses>;

// One row: the fields of VariableInfo (see config.h), and the member it fills.
struct Variable {
  const char* name;  // a C string: EnvLookup takes one
  std::optional<std::string_view> default_text;
  unsigned required_by;
  bool secret;
  Field field;
};

constexpr std::nullopt_t kUnset = std::nullopt;
constexpr bool kSecret = true;
constexpr bool kPlain = false;

// The whole configuration surface, documented in README.md, section "Configuration".
constexpr Variable kVariables[] = {
    {"REGISTRATION_MODE", to_string(kDefaultRegistrationMode), kNeedNothing, kPlain,
     Mode{&Config::registration_mode}},
    {"ADMIN_USERNAME", kUnset, kNeedNothing, kPlain, Text{&Config::admin_username}},
    {"PUBLIC_URL", kUnset, kNeedNothing, kPlain, Text{&Config::public_url}},
    {"DATABASE_URL", kUnset, kNeedDatabase, kSecret, Text{&Config::database_url}},
    {"REDIS_URL", kUnset, kNeedRedis, kSecret, RedisUrl{&Config::redis_url}},
    {"JWT_PRIVATE_KEY_PATH", kUnset, kNeedJwtSign, kPlain, Text{&Config::jwt_private_key_path}},
    {"JWT_PUBLIC_KEY_PATH", kUnset, kNeedJwtVerify, kPlain, Text{&Config::jwt_public_key_path}},
    {"WORKER_THREADS", "16", kNeedNothing, kPlain, Integer{&Config::worker_threads, 1, 1024}},
    {"REQUEST_TIMEOUT_MS", "30000", kNeedNothing, kPlain,
     Integer{&Config::request_timeout_ms, 100, 600000}},
    // Longer than nginx's upstream keepalive_timeout (60 s): nginx closes its idle connections
    // first, and never sends a request on one the handler is closing.
    {"IDLE_TIMEOUT_MS", "75000", kNeedNothing, kPlain,
     Integer{&Config::idle_timeout_ms, 100, 3600000}},
    // 0: RLIMIT_NOFILE less a reserve (http/server.h connection_limit); a number only lowers it.
    {"MAX_CONNECTIONS", "0", kNeedNothing, kPlain, Integer{&Config::max_connections, 0, 65536}},
    // Empty: any peer. Unix-socket peers are always served (config/address_list.h).
    {"FASTCGI_ALLOWED_ADDRESSES", kUnset, kNeedNothing, kPlain,
     Addresses{&Config::fastcgi_allowed_addresses}},
    // The OWASP floor is m=19 MiB (19456 KiB), t=2: nothing lower is accepted.
    {"ARGON2_MEMORY_KIB", "65536", kNeedNothing, kPlain,
     Integer{&Config::argon2_memory_kib, 19456, 4 * 1024 * 1024}},
    {"ARGON2_ITERATIONS", "3", kNeedNothing, kPlain, Integer{&Config::argon2_iterations, 2, 100}},
    {"ARGON2_MAX_CONCURRENT", "2", kNeedNothing, kPlain,
     Integer{&Config::argon2_max_concurrent, 1, 256}},
    {"DB_STATEMENT_TIMEOUT_MS", "5000", kNeedNothing, kPlain,
     Integer{&Config::db_statement_timeout_ms, 100, 600000}},
    {"DATABASE_POOLING", "session", kNeedNothing, kPlain,
     Pooling{&Config::database_transaction_pooling}},
    {"REDIS_TIMEOUT_MS", "250", kNeedNothing, kPlain,
     Integer{&Config::redis_timeout_ms, 10, 10000}},
    // Redis away: refuse (503) by default; true lets requests through unlimited instead.
    {"RATE_LIMIT_FAIL_OPEN", "false", kNeedNothing, kPlain, Flag{&Config::rate_limit_fail_open}},
    {"RATE_LIMIT_INVITE_PER_SECOND", "0.1", kNeedNothing, kPlain,
     Number{&Config::invite_limit, &RateLimit::per_second, 0.0001, 10000}},
    {"RATE_LIMIT_INVITE_BURST", "5", kNeedNothing, kPlain,
     Number{&Config::invite_limit, &RateLimit::burst, 1, 100000}},
    {"RATE_LIMIT_INVITE_NETWORK_PER_SECOND", "0.5", kNeedNothing, kPlain,
     Number{&Config::invite_network_limit, &RateLimit::per_second, 0.0001, 100000}},
    {"RATE_LIMIT_INVITE_NETWORK_BURST", "25", kNeedNothing, kPlain,
     Number{&Config::invite_network_limit, &RateLimit::burst, 1, 1000000}},
    {"RATE_LIMIT_REGISTER_PER_SECOND", "0.05", kNeedNothing, kPlain,
     Number{&Config::register_limit, &RateLimit::per_second, 0.0001, 10000}},
    {"RATE_LIMIT_REGISTER_BURST", "5", kNeedNothing, kPlain,
     Number{&Config::register_limit, &RateLimit::burst, 1, 100000}},
    // Failed logins, recoveries and password changes (README, "Sessions": why these numbers).
    {"RATE_LIMIT_LOGIN_PER_SECOND", "0.05", kNeedNothing, kPlain,
     Number{&Config::login_limit, &RateLimit::per_second, 0.0001, 10000}},
    {"RATE_LIMIT_LOGIN_BURST", "20", kNeedNothing, kPlain,
     Number{&Config::login_limit, &RateLimit::burst, 1, 100000}},
    {"RATE_LIMIT_LOGIN_ACCOUNT_ADDRESS_PER_SECOND", "0.02", kNeedNothing, kPlain,
     Number{&Config::login_account_address_limit, &RateLimit::per_second, 0.0001, 10000}},
    {"RATE_LIMIT_LOGIN_ACCOUNT_ADDRESS_BURST", "10", kNeedNothing, kPlain,
     Number{&Config::login_account_address_limit, &RateLimit::burst, 1, 100000}},
    {"RATE_LIMIT_LOGIN_ACCOUNT_PER_SECOND", "0.2", kNeedNothing, kPlain,
     Number{&Config::login_account_limit, &RateLimit::per_second, 0.0001, 10000}},
    {"RATE_LIMIT_LOGIN_ACCOUNT_BURST", "50", kNeedNothing, kPlain,
     Number{&Config::login_account_limit, &RateLimit::burst, 1, 100000}},
    {"REFRESH_REUSE_GRACE_SECONDS", "10", kNeedNothing, kPlain,
     Integer{&Config::refresh_reuse_grace_seconds, 0, 300}},
    {"ACCESS_TOKEN_SECONDS", "900", kNeedNothing, kPlain,
     Integer{&Config::access_token_seconds, 60, 86400}},
    {"SESSION_DAYS", "30", kNeedNothing, kPlain, Integer{&Config::session_days, 1, 365}},
};

constexpr auto kInfo = [] {
  std::array<VariableInfo, std::size(kVariables)> out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    const Variable& v = kVariables[i];
    out[i] = {v.name, v.default_text, v.required_by, v.secret};
  }
  return out;
}();

}  // namespace

EnvLookup process_env() {
  return [](const char* name) { return std::getenv(name); };  // NOLINT(concurrency-mt-unsafe)
}

Result<Config> load_config(const EnvLookup& env, unsigned needs) {
  Config config;
  std::string problems;
  for (const Variable& var : kVariables) {
    const char* value = env(var.name);
    const bool given = value != nullptr && !trim_ascii(value).empty();
    if (!given && (var.required_by & needs) != 0) {
      problems += std::string(var.name) + ": required but not set\n";
      continue;
    }
    // A variable set but empty is parsed as given: each kind decides what empty means.
    const std::optional<std::string_view> text =
        value != nullptr ? std::optional<std::string_view>(value) : var.default_text;
    if (!text) continue;
    const std::string problem =
        std::visit([&](const auto& field) { return field.parse(*text, config); }, var.field);
    if (!problem.empty()) problems += std::string(var.name) + ": " + problem + "\n";
  }
  if (!problems.empty()) {
    problems.pop_back();
    return Status(Code::kFailedPrecondition, std::move(problems));
  }
  return config;
}

Config default_config() {
  return load_config([](const char*) -> const char* { return nullptr; }, kNeedNothing).value();
}

std::string describe_config(const Config& config) {
  std::string out;
  for (const Variable& var : kVariables) {
    const std::string value =
        std::visit([&](const auto& field) { return field.show(config); }, var.field);
    out += std::string(var.name) + "=" + (var.secret ? redact_secrets(value) : value) + "\n";
  }
  return out;
}

// Hand-written, not std::regex: libstdc++'s matcher recurses once per character, and a long
// value (a DATABASE_URL of some 30 KB) overflowed the stack (tests/fuzz/regressions/config).
namespace {

bool is_blank_char(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

// URI user info: scheme://user:password@host -> scheme://user:***@host.
std::string redact_user_info(std::string_view url) {
  const std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return std::string(url);
  const auto scheme_char = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '.' || c == '-';
  };
  const bool letter = (url[0] >= 'A' && url[0] <= 'Z') || (url[0] >= 'a' && url[0] <= 'z');
  if (!letter || !std::all_of(url.begin(), url.begin() + static_cast<std::ptrdiff_t>(scheme_end), scheme_char)) {
    return std::string(url);
  }
  const std::size_t user_start = scheme_end + 3;
  const std::size_t colon = url.find_first_of("/@:", user_start);
  if (colon == std::string_view::npos || url[colon] != ':') return std::string(url);
  const std::size_t at = url.find_first_of("/@", colon + 1);
  if (at == std::string_view::npos || url[at] != '@') return std::string(url);
  return std::string(url.substr(0, colon)) + ":***" + std::string(url.substr(at));
}

// Where a password value starting at j ends: a quoted '...' (backslash escapes) when it is
// closed, otherwise up to a blank or '&'.
std::size_t value_end(std::string_view s, std::size_t j) {
  if (j < s.size() && s[j] == '\'') {
    std::size_t k = j + 1;
    while (k < s.size() && s[k] != '\'') k += s[k] == '\\' && k + 1 < s.size() ? 2 : 1;
    if (k < s.size()) return k + 1;
  }
  while (j < s.size() && !is_blank_char(s[j]) && s[j] != '&') ++j;
  return j;
}

// The libpq keyword form and URI query parameters: password=secret (any letter case, blanks
// around '=', a value quoted '...' with backslash escapes or up to a blank or '&').
std::string redact_keywords(std::string_view s) {
  constexpr std::string_view kKey = "password";
  std::string out;
  std::size_t i = 0;
  while (i < s.size()) {
    const bool at_boundary = i == 0 || is_blank_char(s[i - 1]) || s[i - 1] == '?' || s[i - 1] == '&';
    if (!at_boundary || s.size() - i < kKey.size() || ascii_lower(s.substr(i, kKey.size())) != kKey) {
      out += s[i++];
      continue;
    }
    std::size_t j = i + kKey.size();
    while (j < s.size() && is_blank_char(s[j])) ++j;
    if (j == s.size() || s[j] != '=') {
      out += s[i++];
      continue;
    }
    ++j;
    while (j < s.size() && is_blank_char(s[j])) ++j;
    j = value_end(s, j);
    out += "password=***";
    i = j;
  }
  return out;
}

}  // namespace

std::string redact_secrets(std::string_view url) { return redact_keywords(redact_user_info(url)); }

std::span<const VariableInfo> config_variables() { return kInfo; }

}  // namespace chatalot
