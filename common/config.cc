#include "config.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <regex>

namespace chatalot {
namespace {

std::string_view trim(std::string_view s) {
  const auto is_blank = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Parses text into the config; returns a problem ("" when fine). Text is never null here.
using Parser = std::string (*)(std::string_view text, Config& config);
using Shower = std::string (*)(const Config& config);

std::string parse_int(std::string_view text, int min, int max, int& out) {
  std::string_view t = trim(text);
  int value = 0;
  const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), value);
  if (t.empty() || ec != std::errc() || end != t.data() + t.size() || value < min ||
      value > max) {
    return "must be an integer between " + std::to_string(min) + " and " + std::to_string(max) +
           ", got \"" + std::string(text) + "\"";
  }
  out = value;
  return "";
}

std::string parse_double(std::string_view text, double min, double max, double& out) {
  const std::string t(trim(text));
  char* end = nullptr;
  const double value = t.empty() ? 0 : std::strtod(t.c_str(), &end);
  if (t.empty() || end != t.c_str() + t.size() || !(value >= min && value <= max)) {
    return "must be a number between " + std::to_string(min).substr(0, 6) + " and " +
           std::to_string(static_cast<long long>(max)) + ", got \"" + std::string(text) + "\"";
  }
  out = value;
  return "";
}

std::string show_double(double v) {
  std::string s = std::to_string(v);
  while (s.back() == '0') s.pop_back();
  if (s.back() == '.') s.pop_back();
  return s;
}

std::string parse_bool(std::string_view text, bool& out) {
  const std::string v = lower(trim(text));
  if (v == "true" || v == "1" || v == "yes" || v == "on") {
    out = true;
  } else if (v == "false" || v == "0" || v == "no" || v == "off" || v.empty()) {
    out = false;
  } else {
    return "must be true or false, got \"" + std::string(text) + "\"";
  }
  return "";
}

struct Variable {
  const char* name;
  const char* default_value;  // nullptr: unset unless given
  unsigned required_by;       // Need bits that make it required
  bool secret;                // redacted by describe_config
  Parser parse;
  Shower show;
};

// The whole configuration surface. Documented in README.md, section "Configuration".
const Variable kVariables[] = {
    {"REGISTRATION_MODE", "invite_only", kNeedNothing, false,
     [](std::string_view text, Config& c) -> std::string {
       const std::string v = lower(trim(text));
       if (v == "open") {
         c.registration_mode = RegistrationMode::kOpen;
       } else if (v == "invite_only" || v.empty()) {  // empty, as "KEY=" in a unit file: default
         c.registration_mode = RegistrationMode::kInviteOnly;
       } else if (v == "closed") {
         c.registration_mode = RegistrationMode::kClosed;
       } else {
         return "invalid value \"" + std::string(text) +
                "\"; valid values are open, invite_only, closed";
       }
       return "";
     },
     [](const Config& c) { return std::string(to_string(c.registration_mode)); }},
    {"ADMIN_USERNAME", nullptr, kNeedNothing, false,
     [](std::string_view text, Config& c) -> std::string {
       c.admin_username = std::string(trim(text));
       return "";
     },
     [](const Config& c) { return c.admin_username; }},
    {"PUBLIC_URL", nullptr, kNeedNothing, false,
     [](std::string_view text, Config& c) -> std::string {
       c.public_url = std::string(trim(text));
       return "";
     },
     [](const Config& c) { return c.public_url; }},
    {"DATABASE_URL", nullptr, kNeedDatabase, true,
     [](std::string_view text, Config& c) -> std::string {
       c.database_url = std::string(trim(text));
       return "";
     },
     [](const Config& c) { return c.database_url; }},
    {"REDIS_URL", nullptr, kNeedRedis, true,
     [](std::string_view text, Config& c) -> std::string {
       const std::string v(trim(text));
       if (!v.empty() && v.rfind("redis://", 0) != 0 && v.rfind("unix://", 0) != 0) {
         return "must start with redis:// or unix://, got \"" + redact_secrets(v) + "\"";
       }
       c.redis_url = v;
       return "";
     },
     [](const Config& c) { return c.redis_url; }},
    {"JWT_PRIVATE_KEY_PATH", nullptr, kNeedJwtSign, false,
     [](std::string_view text, Config& c) -> std::string {
       c.jwt_private_key_path = std::string(trim(text));
       return "";
     },
     [](const Config& c) { return c.jwt_private_key_path; }},
    {"JWT_PUBLIC_KEY_PATH", nullptr, kNeedJwtVerify, false,
     [](std::string_view text, Config& c) -> std::string {
       c.jwt_public_key_path = std::string(trim(text));
       return "";
     },
     [](const Config& c) { return c.jwt_public_key_path; }},
    {"WORKER_THREADS", "16", kNeedNothing, false,
     [](std::string_view text, Config& c) { return parse_int(text, 1, 1024, c.worker_threads); },
     [](const Config& c) { return std::to_string(c.worker_threads); }},
    {"REQUEST_TIMEOUT_MS", "30000", kNeedNothing, false,
     [](std::string_view text, Config& c) {
       return parse_int(text, 100, 600000, c.request_timeout_ms);
     },
     [](const Config& c) { return std::to_string(c.request_timeout_ms); }},
    // The OWASP floor is m=19 MiB (19456 KiB), t=2: nothing lower is accepted.
    {"ARGON2_MEMORY_KIB", "65536", kNeedNothing, false,
     [](std::string_view text, Config& c) {
       return parse_int(text, 19456, 4 * 1024 * 1024, c.argon2_memory_kib);
     },
     [](const Config& c) { return std::to_string(c.argon2_memory_kib); }},
    {"ARGON2_ITERATIONS", "3", kNeedNothing, false,
     [](std::string_view text, Config& c) { return parse_int(text, 2, 100, c.argon2_iterations); },
     [](const Config& c) { return std::to_string(c.argon2_iterations); }},
    {"ARGON2_MAX_CONCURRENT", "2", kNeedNothing, false,
     [](std::string_view text, Config& c) {
       return parse_int(text, 1, 256, c.argon2_max_concurrent);
     },
     [](const Config& c) { return std::to_string(c.argon2_max_concurrent); }},
    {"DB_STATEMENT_TIMEOUT_MS", "5000", kNeedNothing, false,
     [](std::string_view text, Config& c) {
       return parse_int(text, 100, 600000, c.db_statement_timeout_ms);
     },
     [](const Config& c) { return std::to_string(c.db_statement_timeout_ms); }},
    {"REDIS_TIMEOUT_MS", "250", kNeedNothing, false,
     [](std::string_view text, Config& c) { return parse_int(text, 10, 10000, c.redis_timeout_ms); },
     [](const Config& c) { return std::to_string(c.redis_timeout_ms); }},
    // Redis away: refuse (503) by default; true lets requests through unlimited instead.
    {"RATE_LIMIT_FAIL_OPEN", "false", kNeedNothing, false,
     [](std::string_view text, Config& c) { return parse_bool(text, c.rate_limit_fail_open); },
     [](const Config& c) { return std::string(c.rate_limit_fail_open ? "true" : "false"); }},
    {"RATE_LIMIT_INVITE_PER_SECOND", "0.1", kNeedNothing, false,
     [](std::string_view text, Config& c) {
       return parse_double(text, 0.0001, 10000, c.invite_limit.per_second);
     },
     [](const Config& c) { return show_double(c.invite_limit.per_second); }},
    {"RATE_LIMIT_INVITE_BURST", "5", kNeedNothing, false,
     [](std::string_view text, Config& c) { return parse_double(text, 1, 100000, c.invite_limit.burst); },
     [](const Config& c) { return show_double(c.invite_limit.burst); }},
    {"RATE_LIMIT_INVITE_GLOBAL_PER_SECOND", "1", kNeedNothing, false,
     [](std::string_view text, Config& c) {
       return parse_double(text, 0.0001, 100000, c.invite_global_limit.per_second);
     },
     [](const Config& c) { return show_double(c.invite_global_limit.per_second); }},
    {"RATE_LIMIT_INVITE_GLOBAL_BURST", "100", kNeedNothing, false,
     [](std::string_view text, Config& c) {
       return parse_double(text, 1, 1000000, c.invite_global_limit.burst);
     },
     [](const Config& c) { return show_double(c.invite_global_limit.burst); }},
    {"RATE_LIMIT_REGISTER_PER_SECOND", "0.05", kNeedNothing, false,
     [](std::string_view text, Config& c) {
       return parse_double(text, 0.0001, 10000, c.register_limit.per_second);
     },
     [](const Config& c) { return show_double(c.register_limit.per_second); }},
    {"RATE_LIMIT_REGISTER_BURST", "5", kNeedNothing, false,
     [](std::string_view text, Config& c) {
       return parse_double(text, 1, 100000, c.register_limit.burst);
     },
     [](const Config& c) { return show_double(c.register_limit.burst); }},
};

}  // namespace

std::string_view to_string(RegistrationMode mode) {
  switch (mode) {
    case RegistrationMode::kOpen:
      return "open";
    case RegistrationMode::kInviteOnly:
      return "invite_only";
    case RegistrationMode::kClosed:
      return "closed";
  }
  return "invite_only";
}

EnvLookup process_env() {
  return [](const char* name) { return std::getenv(name); };  // NOLINT(concurrency-mt-unsafe)
}

Result<Config> load_config(const EnvLookup& env, unsigned needs) {
  Config config;
  std::string problems;
  for (const Variable& var : kVariables) {
    const char* value = env(var.name);
    const bool given = value != nullptr && !trim(value).empty();
    if (!given && (var.required_by & needs) != 0) {
      problems += std::string(var.name) + ": required but not set\n";
      continue;
    }
    const char* text = value != nullptr ? value : var.default_value;
    if (text == nullptr) continue;
    if (std::string problem = var.parse(text, config); !problem.empty()) {
      problems += std::string(var.name) + ": " + problem + "\n";
    }
  }
  if (!problems.empty()) {
    problems.pop_back();
    return Status(ErrorCode::kInvalidArgument, problems);
  }
  return config;
}

std::string describe_config(const Config& config) {
  std::string out;
  for (const Variable& var : kVariables) {
    const std::string value = var.show(config);
    out += std::string(var.name) + "=" + (var.secret ? redact_secrets(value) : value) + "\n";
  }
  return out;
}

std::string redact_secrets(std::string_view url) {
  std::string out(url);
  // URI user info: scheme://user:password@host
  static const std::regex kUserInfo(R"(^([A-Za-z][A-Za-z0-9+.-]*://[^/@:]*):[^/@]*@)");
  out = std::regex_replace(out, kUserInfo, "$1:***@");
  // libpq keyword form and URI query parameters: password=secret
  static const std::regex kKeyword(R"((^|[\s?&])password\s*=\s*('([^'\\]|\\.)*'|[^\s&]*))",
                                   std::regex::icase);
  return std::regex_replace(out, kKeyword, "$1password=***");
}

}  // namespace chatalot
