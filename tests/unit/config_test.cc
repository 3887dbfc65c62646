#include "config/config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>

namespace chatalot {
namespace {

EnvLookup env_of(const std::map<std::string, std::string>& vars) {
  return [vars](const char* name) -> const char* {
    const auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

RegistrationMode mode_of(const std::map<std::string, std::string>& vars) {
  Result<Config> c = load_config(env_of(vars), kNeedNothing);
  EXPECT_TRUE(c.is_ok()) << c.status().detail();
  return c->registration_mode;
}

TEST(Config, ModeIsTrimmedAndCaseInsensitive) {
  EXPECT_EQ(mode_of({{"REGISTRATION_MODE", " Open "}}), RegistrationMode::kOpen);
  EXPECT_EQ(mode_of({{"REGISTRATION_MODE", "INVITE_ONLY"}}), RegistrationMode::kInviteOnly);
  EXPECT_EQ(mode_of({{"REGISTRATION_MODE", "\tclosed\n"}}), RegistrationMode::kClosed);
}

TEST(Config, ModeDefaultsToInviteOnlyWhenUnsetOrEmpty) {
  EXPECT_EQ(mode_of({}), RegistrationMode::kInviteOnly);
  EXPECT_EQ(mode_of({{"REGISTRATION_MODE", ""}}), RegistrationMode::kInviteOnly);
  EXPECT_EQ(mode_of({{"REGISTRATION_MODE", "   "}}), RegistrationMode::kInviteOnly);
}

TEST(Config, UnknownModeIsRefusedNamingTheValueAndTheValidOnes) {
  Result<Config> c = load_config(env_of({{"REGISTRATION_MODE", "inviteonly"}}), kNeedNothing);
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().detail(),
            "REGISTRATION_MODE: invalid value \"inviteonly\"; valid values are open, "
            "invite_only, closed");
}

TEST(Config, EveryProblemIsReportedTogether) {
  Result<Config> c = load_config(env_of({{"REGISTRATION_MODE", "public"},
                                         {"WORKER_THREADS", "lots"},
                                         {"REDIS_URL", "http://x"}}),
                                 kNeedDatabase | kNeedRedis);
  ASSERT_FALSE(c.is_ok());
  const std::string& m = c.status().detail();
  EXPECT_NE(m.find("REGISTRATION_MODE: invalid value \"public\""), std::string::npos) << m;
  EXPECT_NE(m.find("DATABASE_URL: required but not set"), std::string::npos) << m;
  EXPECT_NE(m.find("REDIS_URL: must start with redis:// or unix://"), std::string::npos) << m;
  EXPECT_NE(m.find("WORKER_THREADS: must be an integer between 1 and 1024, got \"lots\""),
            std::string::npos)
      << m;
  EXPECT_EQ(std::count(m.begin(), m.end(), '\n'), 3) << m;
}

TEST(Config, VariablesAreRequiredOnlyWhereUsed) {
  EXPECT_TRUE(load_config(env_of({}), kNeedNothing).is_ok());
  EXPECT_FALSE(load_config(env_of({}), kNeedDatabase).is_ok());
  EXPECT_TRUE(load_config(env_of({{"DATABASE_URL", "postgresql:///x"}}), kNeedDatabase).is_ok());
}

TEST(Config, IntegersAreRangeChecked) {
  EXPECT_FALSE(load_config(env_of({{"WORKER_THREADS", "0"}}), kNeedNothing).is_ok());
  EXPECT_FALSE(load_config(env_of({{"WORKER_THREADS", "8x"}}), kNeedNothing).is_ok());
  Result<Config> c = load_config(env_of({{"WORKER_THREADS", " 4 "}}), kNeedNothing);
  ASSERT_TRUE(c.is_ok());
  EXPECT_EQ(c->worker_threads, 4);
}

// MAX_CONNECTIONS 0 means "as the descriptor limit allows"; a number only lowers that.
TEST(Config, FastCgiConnectionBoundsAreRangeChecked) {
  Result<Config> c = load_config(env_of({{"IDLE_TIMEOUT_MS", "5000"}, {"MAX_CONNECTIONS", "100"}}),
                                 kNeedNothing);
  ASSERT_TRUE(c.is_ok()) << c.status().detail();
  EXPECT_EQ(c->idle_timeout_ms, 5000);
  EXPECT_EQ(c->max_connections, 100);
  c = load_config(env_of({{"IDLE_TIMEOUT_MS", "50"}, {"MAX_CONNECTIONS", "-1"}}), kNeedNothing);
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().detail(),
            "IDLE_TIMEOUT_MS: must be an integer between 100 and 3600000, got \"50\"\n"
            "MAX_CONNECTIONS: must be an integer between 0 and 65536, got \"-1\"");
}

TEST(Config, AFailureIsAFailedPreconditionWhoseProblemsStayOutOfTheMessage) {
  Result<Config> c = load_config(env_of({{"WORKER_THREADS", "lots"}}), kNeedNothing);
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(c.status().message().find("WORKER_THREADS"), std::string::npos);
}

TEST(Config, ABlankRequiredVariableIsNotSet) {
  Result<Config> c = load_config(env_of({{"DATABASE_URL", "  "}}), kNeedDatabase);
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().detail(), "DATABASE_URL: required but not set");
}

TEST(Config, NumbersAreRangeChecked) {
  Result<Config> c = load_config(env_of({{"RATE_LIMIT_INVITE_PER_SECOND", "fast"}}), kNeedNothing);
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().detail(),
            "RATE_LIMIT_INVITE_PER_SECOND: must be a number between 0.0001 and 10000, got "
            "\"fast\"");
  c = load_config(env_of({{"RATE_LIMIT_REGISTER_BURST", " 7.5 "}}), kNeedNothing);
  ASSERT_TRUE(c.is_ok()) << c.status().detail();
  EXPECT_EQ(c->register_limit.burst, 7.5);
  EXPECT_EQ(c->register_limit.per_second, 0.05);
}

TEST(Config, FlagsTakeTheUsualSpellings) {
  Result<Config> c = load_config(env_of({{"RATE_LIMIT_FAIL_OPEN", " Yes"}}), kNeedNothing);
  ASSERT_TRUE(c.is_ok());
  EXPECT_TRUE(c->rate_limit_fail_open);
  c = load_config(env_of({{"RATE_LIMIT_FAIL_OPEN", "maybe"}}), kNeedNothing);
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().detail(), "RATE_LIMIT_FAIL_OPEN: must be true or false, got \"maybe\"");
}

// A second witness of the defaults, so that an edit of the table shows up here too.
TEST(Config, DefaultsAreThoseOfAnEmptyEnvironment) {
  const Config c = default_config();
  EXPECT_EQ(c.registration_mode, RegistrationMode::kInviteOnly);
  EXPECT_EQ(c.worker_threads, 16);
  EXPECT_EQ(c.request_timeout_ms, 30000);
  EXPECT_EQ(c.idle_timeout_ms, 75000);
  EXPECT_EQ(c.max_connections, 0);
  EXPECT_EQ(c.argon2_memory_kib, 65536);
  EXPECT_EQ(c.argon2_iterations, 3);
  EXPECT_EQ(c.argon2_max_concurrent, 2);
  EXPECT_EQ(c.db_statement_timeout_ms, 5000);
  EXPECT_EQ(c.redis_timeout_ms, 250);
  EXPECT_FALSE(c.rate_limit_fail_open);
  EXPECT_EQ(c.invite_limit.per_second, 0.1);
  EXPECT_EQ(c.invite_limit.burst, 5);
  EXPECT_EQ(c.invite_network_limit.per_second, 0.5);
  EXPECT_EQ(c.invite_network_limit.burst, 25);
  EXPECT_EQ(c.register_limit.per_second, 0.05);
  EXPECT_EQ(c.register_limit.burst, 5);
  EXPECT_EQ(c.login_limit.per_second, 0.05);
  EXPECT_EQ(c.login_limit.burst, 20);
  EXPECT_EQ(c.login_account_address_limit.per_second, 0.02);
  EXPECT_EQ(c.login_account_address_limit.burst, 10);
  EXPECT_EQ(c.login_account_limit.per_second, 0.2);
  EXPECT_EQ(c.login_account_limit.burst, 50);
  EXPECT_EQ(c.refresh_reuse_grace_seconds, 10);
  // The contract's lifetimes, which the domain's tests name.
  EXPECT_EQ(c.access_token_seconds, kAccessTokenSeconds);
  EXPECT_EQ(c.session_days, kSessionDays);
  EXPECT_TRUE(c.database_url.empty());
}

TEST(Config, TokenLifetimesAreReadAndRangeChecked) {
  Result<Config> c =
      load_config(env_of({{"ACCESS_TOKEN_SECONDS", "300"}, {"SESSION_DAYS", "7"}}), kNeedNothing);
  ASSERT_TRUE(c.is_ok()) << c.status().detail();
  EXPECT_EQ(c->access_token_seconds, 300);
  EXPECT_EQ(c->session_days, 7);
  c = load_config(env_of({{"ACCESS_TOKEN_SECONDS", "59"}, {"SESSION_DAYS", "366"}}), kNeedNothing);
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().detail(),
            "ACCESS_TOKEN_SECONDS: must be an integer between 60 and 86400, got \"59\"\n"
            "SESSION_DAYS: must be an integer between 1 and 365, got \"366\"");
}

// SPEC section 3, login: "an address that keeps failing gets 429 after at most 30 failures".
TEST(Config, DefaultLoginBudgetsLimitAnAddressWithinThirtyFailures) {
  const Config c = default_config();
  EXPECT_LE(c.login_limit.burst, 30);
  EXPECT_LE(c.login_account_address_limit.burst, c.login_limit.burst);
  // One account's budget is shared by every address: larger than one address's.
  EXPECT_GT(c.login_account_limit.burst, c.login_limit.burst);
}

TEST(Config, LoginBudgetsAndTheReuseGraceAreReadAndRangeChecked) {
  Result<Config> c = load_config(env_of({{"RATE_LIMIT_LOGIN_PER_SECOND", "0.5"},
                                         {"RATE_LIMIT_LOGIN_BURST", "7"},
                                         {"RATE_LIMIT_LOGIN_ACCOUNT_ADDRESS_PER_SECOND", "0.25"},
                                         {"RATE_LIMIT_LOGIN_ACCOUNT_ADDRESS_BURST", "3"},
                                         {"RATE_LIMIT_LOGIN_ACCOUNT_PER_SECOND", "2"},
                                         {"RATE_LIMIT_LOGIN_ACCOUNT_BURST", "99"},
                                         {"REFRESH_REUSE_GRACE_SECONDS", "0"}}),
                                 kNeedNothing);
  ASSERT_TRUE(c.is_ok()) << c.status().detail();
  EXPECT_EQ(c->login_limit.per_second, 0.5);
  EXPECT_EQ(c->login_limit.burst, 7);
  EXPECT_EQ(c->login_account_address_limit.per_second, 0.25);
  EXPECT_EQ(c->login_account_address_limit.burst, 3);
  EXPECT_EQ(c->login_account_limit.per_second, 2);
  EXPECT_EQ(c->login_account_limit.burst, 99);
  EXPECT_EQ(c->refresh_reuse_grace_seconds, 0);

  c = load_config(env_of({{"RATE_LIMIT_LOGIN_BURST", "0"},
                          {"RATE_LIMIT_LOGIN_ACCOUNT_PER_SECOND", "-1"},
                          {"REFRESH_REUSE_GRACE_SECONDS", "301"}}),
                  kNeedNothing);
  ASSERT_FALSE(c.is_ok());
  EXPECT_EQ(c.status().detail(),
            "RATE_LIMIT_LOGIN_BURST: must be a number between 1.0000 and 100000, got \"0\"\n"
            "RATE_LIMIT_LOGIN_ACCOUNT_PER_SECOND: must be a number between 0.0001 and 10000, "
            "got \"-1\"\n"
            "REFRESH_REUSE_GRACE_SECONDS: must be an integer between 0 and 300, got \"301\"");
}

TEST(Config, AValueInitialisedConfigDoesNotOpenRegistration) {
  EXPECT_EQ(Config{}.registration_mode, RegistrationMode::kInviteOnly);
  EXPECT_EQ(Config{}.registration_mode, default_config().registration_mode);
}

TEST(Config, DescribeListsEveryVariableInTableOrder) {
  std::string expected_names;
  for (const VariableInfo& v : config_variables()) expected_names += std::string(v.name) + "\n";
  std::string names;
  const std::string text = describe_config(default_config());
  for (std::size_t start = 0; start < text.size();) {
    const std::size_t end = text.find('\n', start);
    names += text.substr(start, text.find('=', start) - start) + "\n";
    start = end + 1;
  }
  EXPECT_EQ(names, expected_names);
  EXPECT_NE(text.find("RATE_LIMIT_INVITE_PER_SECOND=0.1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("RATE_LIMIT_FAIL_OPEN=false\n"), std::string::npos) << text;
  EXPECT_NE(text.find("RATE_LIMIT_LOGIN_BURST=20\n"), std::string::npos) << text;
  EXPECT_NE(text.find("REFRESH_REUSE_GRACE_SECONDS=10\n"), std::string::npos) << text;
}

TEST(Config, DescribeRedactsSecrets) {
  Result<Config> c = load_config(
      env_of({{"DATABASE_URL", "postgresql://chat:hunter2@db.internal/chatalot"},
              {"REDIS_URL", "redis://:s3cret@cache:6379/0"},
              {"PUBLIC_URL", "https://chat.example"}}),
      kNeedNothing);
  ASSERT_TRUE(c.is_ok());
  const std::string text = describe_config(*c);
  EXPECT_EQ(text.find("hunter2"), std::string::npos) << text;
  EXPECT_EQ(text.find("s3cret"), std::string::npos) << text;
  EXPECT_NE(text.find("DATABASE_URL=postgresql://chat:***@db.internal/chatalot\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("REGISTRATION_MODE=invite_only\n"), std::string::npos) << text;
  EXPECT_NE(text.find("PUBLIC_URL=https://chat.example\n"), std::string::npos) << text;
}

// Found by fuzzing (tests/fuzz/regressions/config): the std::regex redaction recursed once per
// character and a long value overflowed the stack.
TEST(Config, RedactsVeryLongValuesWithoutRecursion) {
  const std::string user_info = "postgresql://u:" + std::string(200000, 's') + "@db/x";
  EXPECT_EQ(redact_secrets(user_info), "postgresql://u:***@db/x");
  const std::string keyword = "host=db password=" + std::string(200000, 'p') + " user=x";
  EXPECT_EQ(redact_secrets(keyword), "host=db password=*** user=x");
  const std::string plain(200000, 'x');
  EXPECT_EQ(redact_secrets(plain), plain);
}

TEST(Config, RedactsKeywordPasswords) {
  EXPECT_EQ(redact_secrets("host=db password='a b' user=x"), "host=db password=*** user=x");
  EXPECT_EQ(redact_secrets("postgresql:///db?host=/run&password=pw"),
            "postgresql:///db?host=/run&password=***");
  EXPECT_EQ(redact_secrets("unix:///run/redis.sock"), "unix:///run/redis.sock");
}

}  // namespace
}  // namespace chatalot
