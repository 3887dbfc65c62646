// The configuration parser: load_config() over an environment made from the input. The first
// byte's low four bits are the Need bits (what the executable requires); the rest is
// NAME=value lines (the last of a name wins; a value ends at a NUL, as in a real environment).
//
// Invariants: no crash; a failure is kFailedPrecondition with one "NAME: problem" line per
// problem, each naming a variable of the table; an accepted configuration is within the table's
// ranges, and what --check-config prints for it (describe_config), loaded again, is the same
// configuration.
#include <map>
#include <string>

#include "config/config.h"
#include "fuzz.h"

namespace chatalot {
namespace {

using Env = std::map<std::string, std::string, std::less<>>;

EnvLookup lookup(const Env& env) {
  return [&env](const char* name) -> const char* {
    const auto it = env.find(std::string_view(name));
    return it == env.end() ? nullptr : it->second.c_str();
  };
}

bool is_variable(std::string_view name) {
  for (const VariableInfo& v : config_variables()) {
    if (v.name == name) return true;
  }
  return false;
}

void check_ranges(const Config& c) {
  FUZZ_CHECK(c.worker_threads >= 1 && c.worker_threads <= 1024);
  FUZZ_CHECK(c.request_timeout_ms >= 100 && c.request_timeout_ms <= 600000);
  FUZZ_CHECK(c.argon2_memory_kib >= 19456);
  FUZZ_CHECK(c.argon2_iterations >= 2);
  FUZZ_CHECK(c.argon2_max_concurrent >= 1);
  FUZZ_CHECK(c.db_statement_timeout_ms >= 100);
  FUZZ_CHECK(c.redis_timeout_ms >= 10);
  for (const RateLimit* l : {&c.invite_limit, &c.invite_network_limit, &c.register_limit}) {
    FUZZ_CHECK(l->per_second >= 0.0001 && l->burst >= 1);  // also false for NaN
  }
  FUZZ_CHECK(c.redis_url.empty() || c.redis_url.starts_with("redis://") ||
             c.redis_url.starts_with("unix://") || c.redis_url.starts_with("redis+cluster://"));
  for (const std::string* s : {&c.admin_username, &c.public_url, &c.database_url, &c.redis_url,
                               &c.jwt_private_key_path, &c.jwt_public_key_path}) {
    FUZZ_CHECK(trim_ascii(*s) == *s);
  }
}

}  // namespace
}  // namespace chatalot

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace chatalot;
  if (size == 0) return 0;
  const unsigned needs = data[0] & 0x0FU;
  Env env;
  for (std::string_view line : fuzz::split(fuzz::as_text(data + 1, size - 1), '\n', size)) {
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) continue;
    std::string value(line.substr(eq + 1));
    value.resize(std::char_traits<char>::length(value.c_str()));  // a C string, as getenv's
    env[std::string(line.substr(0, eq))] = std::move(value);
  }

  Result<Config> config = load_config(lookup(env), needs);
  fuzz::trace("config", config.is_ok() ? "accepted" : config.status().detail());
  if (!config.is_ok()) {
    const Status& s = config.status();
    FUZZ_CHECK(s.code() == Code::kFailedPrecondition);
    FUZZ_CHECK(!s.detail().empty());
    FUZZ_CHECK(!s.message().empty());
    for (std::string_view line : fuzz::split(s.detail(), '\n', s.detail().size() + 1)) {
      const std::size_t colon = line.find(": ");
      FUZZ_CHECK_MSG(colon != std::string_view::npos && is_variable(line.substr(0, colon)),
                     s.detail());
    }
    return 0;
  }
  check_ranges(*config);

  // --check-config's output is NAME=value lines; secrets are redacted there, so they are fed
  // back as they were loaded.
  const std::string described = describe_config(*config);
  Env again;
  for (std::string_view line : fuzz::split(described, '\n', described.size() + 1)) {
    if (line.empty()) continue;
    const std::size_t eq = line.find('=');
    FUZZ_CHECK_MSG(eq != std::string_view::npos, described);
    again[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }
  FUZZ_CHECK(again.size() == config_variables().size());
  again["DATABASE_URL"] = config->database_url;
  again["REDIS_URL"] = config->redis_url;
  Result<Config> reloaded = load_config(lookup(again), kNeedNothing);
  FUZZ_CHECK_MSG(reloaded.is_ok(), reloaded.status().describe());
  FUZZ_CHECK_MSG(describe_config(*reloaded) == described, described);
  return 0;
}
