#include "config.h"

#include <gtest/gtest.h>

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
  EXPECT_TRUE(c.is_ok()) << c.status().message();
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
  EXPECT_EQ(c.status().message(),
            "REGISTRATION_MODE: invalid value \"inviteonly\"; valid values are open, "
            "invite_only, closed");
}

TEST(Config, EveryProblemIsReportedTogether) {
  Result<Config> c = load_config(env_of({{"REGISTRATION_MODE", "public"},
                                         {"WORKER_THREADS", "lots"},
                                         {"REDIS_URL", "http://x"}}),
                                 kNeedDatabase | kNeedRedis);
  ASSERT_FALSE(c.is_ok());
  const std::string& m = c.status().message();
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

TEST(Config, RedactsKeywordPasswords) {
  EXPECT_EQ(redact_secrets("host=db password='a b' user=x"), "host=db password=*** user=x");
  EXPECT_EQ(redact_secrets("postgresql:///db?host=/run&password=pw"),
            "postgresql:///db?host=/run&password=***");
  EXPECT_EQ(redact_secrets("unix:///run/redis.sock"), "unix:///run/redis.sock");
}

}  // namespace
}  // namespace chatalot
