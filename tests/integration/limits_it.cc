// The invite check and the rate limits in Redis: brute force from one address and from many,
// spoofed headers, two worker processes sharing one budget, and Redis going away.
#include <gtest/gtest.h>

#include <algorithm>
#include <regex>
#include <thread>

#include "harness.h"
#include "registration.h"

namespace chatalot::testing {
namespace {

Stack* g_stack = nullptr;

// The default per-address invite limit (0.1/s, burst 5); a per-network budget of 20 that does
// not refill during a test; registrations limited to a burst of 3 per address.
const std::map<std::string, std::string> kLimits = {
    {"RATE_LIMIT_INVITE_PER_SECOND", "0.1"},     {"RATE_LIMIT_INVITE_BURST", "5"},
    {"RATE_LIMIT_INVITE_NETWORK_PER_SECOND", "0.001"}, {"RATE_LIMIT_INVITE_NETWORK_BURST", "20"},
    {"RATE_LIMIT_REGISTER_PER_SECOND", "0.001"}, {"RATE_LIMIT_REGISTER_BURST", "3"},
    {"ARGON2_MEMORY_KIB", "19456"},              {"ARGON2_ITERATIONS", "2"},
    {"REGISTRATION_MODE", "invite_only"}};

class StackEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    g_stack = new Stack("limits", 2, kLimits);
    const CommandResult r = g_stack->up();
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
  void TearDown() override { delete g_stack; }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new StackEnvironment);

const std::string kInvalid =
    R"({"error":{"code":"validation_error","message":"invalid, expired, or fully used invite code"}})";

// The stack's Redis: one server, or a cluster when CHATALOT_STACK_REDIS=cluster.
std::string redis_cli(const std::string& command) { return g_stack->redis_cli(command); }

std::string create_invite(const std::string& args = "") {
  const CommandResult r = run_command("(CHATALOT_STACK_DIR='" + g_stack->dir() + "' '" +
                                      source_dir() + "/scripts/stack' ctl invite create " + args +
                                      " 2>/dev/null)");
  EXPECT_EQ(r.exit_code, 0);
  return r.output.substr(0, r.output.find('\n'));
}

// A client whose connections come from the given loopback address.
std::unique_ptr<httplib::Client> client_from(const std::string& source) {
  auto c = g_stack->client();
  c->set_interface(source);
  return c;
}

httplib::Result redeem(httplib::Client& c, const std::string& code, const httplib::Headers& h = {}) {
  return c.Post("/api/auth/invites/redeem", h, R"({"invite_code":")" + code + R"("})",
                "application/json");
}

class Limits : public ::testing::Test {
 protected:
  void SetUp() override {
    if (redis_cli("PING").find("PONG") == std::string::npos) {
      ASSERT_EQ(g_stack->up().exit_code, 0);
    }
    g_stack->redis_flushall();
  }
};

TEST_F(Limits, RedeemAnswersAndConsumesNothing) {
  const std::string code = create_invite("--max-uses 3 --expires-in-hours 2");
  auto c = client_from("127.0.0.1");
  for (int i = 0; i < 3; ++i) {
    const auto res = redeem(*c, code);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << res->body;
    EXPECT_TRUE(std::regex_match(
        res->body, std::regex(R"(\{"valid":true,"expires_at":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z","uses_remaining":3\})")))
        << res->body;
  }
  const auto unlimited = redeem(*c, create_invite());
  ASSERT_TRUE(unlimited);
  EXPECT_EQ(unlimited->body, R"({"valid":true,"expires_at":null,"uses_remaining":null})");
  EXPECT_EQ(g_stack->query("SELECT sum(used_count) FROM registration_invites"), "0");
  const auto wrong_type = c->Post("/api/auth/invites/redeem", R"({"invite_code":5})", "application/json");
  ASSERT_TRUE(wrong_type);
  EXPECT_EQ(wrong_type->status, 400);
  EXPECT_NE(wrong_type->body.find("invite_code must be a string"), std::string::npos);
}

TEST_F(Limits, OneAddressGuessingIsLimitedAfterItsBurstEvenForAValidCode) {
  const std::string code = create_invite();
  auto attacker = client_from("127.0.0.2");
  for (int i = 0; i < 5; ++i) {
    const auto res = redeem(*attacker, "WRONG-CODE-" + std::to_string(i));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, kInvalid) << i;
  }
  const auto limited = redeem(*attacker, "WRONG-CODE-6");
  ASSERT_TRUE(limited);
  EXPECT_EQ(limited->status, 429);
  EXPECT_EQ(limited->body,
            R"({"error":{"code":"rate_limited","message":"too many requests, try again later"}})");
  const int retry_after = std::stoi(limited->get_header_value("Retry-After"));
  EXPECT_GE(retry_after, 1);
  EXPECT_LE(retry_after, 10);
  const auto valid_but_limited = redeem(*attacker, code);
  ASSERT_TRUE(valid_but_limited);
  EXPECT_EQ(valid_but_limited->status, 429);
  // Another address is not affected.
  const auto other = redeem(*client_from("127.0.0.3"), code);
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 200);
  // The five attempts were spread over both worker processes, which shared one budget.
  EXPECT_NE(read_file(g_stack->log_path("invite-redeem")).find("status=400"), std::string::npos);
  EXPECT_NE(read_file(g_stack->log_path("invite-redeem.2")).find("status=400"), std::string::npos);
}

TEST_F(Limits, ValidCodesDoNotSpendTheAddressBudget) {
  const std::string code = create_invite();
  auto c = client_from("127.0.0.4");
  for (int i = 0; i < 12; ++i) EXPECT_EQ(redeem(*c, code).value().status, 200) << i;
}

TEST_F(Limits, ForwardedForHeadersChangeNothing) {
  auto attacker = client_from("127.0.0.5");
  for (int i = 0; i < 6; ++i) {
    const auto res = redeem(*attacker, "WRONG",
                            {{"X-Forwarded-For", "10.1.2." + std::to_string(i)},
                             {"X-Real-IP", "10.9.9." + std::to_string(i)},
                             {"Forwarded", "for=10.7.7." + std::to_string(i)}});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, i < 5 ? 400 : 429) << i;
  }
}

// The addresses of one /24 share its budget: twenty of them, one wrong guess each (each far
// below its own burst), spend it, and then even a valid code from that network waits.
TEST_F(Limits, OneNetworkSharesItsBudget) {
  const std::string code = create_invite();
  for (int i = 0; i < 20; ++i) {
    const auto res = redeem(*client_from("127.0.1." + std::to_string(i + 1)), "WRONG");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << i;
  }
  const auto same_network = redeem(*client_from("127.0.1.200"), code);
  ASSERT_TRUE(same_network);
  EXPECT_EQ(same_network->status, 429) << same_network->body;
  EXPECT_EQ(redeem(*client_from("127.0.2.1"), code).value().status, 200);
}

// SPEC guarantee 9: failures from other networks, however many and however spread, never
// refuse a valid code, through the invite check or registration. They are counted instead.
TEST_F(Limits, AValidCodeIsNeverRefusedForFailuresFromOtherNetworks) {
  const std::string code = create_invite("--max-uses 1");
  std::vector<std::thread> attackers;
  for (int net = 0; net < 8; ++net) {
    attackers.emplace_back([net] {
      for (int host = 1; host <= 4; ++host) {  // each address and network within its budget
        auto c = client_from("127.1." + std::to_string(net) + "." + std::to_string(host));
        for (int i = 0; i < 5; ++i) EXPECT_EQ(redeem(*c, "WRONG").value().status, 400);
      }
    });
  }
  for (auto& t : attackers) t.join();
  EXPECT_EQ(redis_cli("GET chatalot:stats:invite-failures"), "160\n");
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(redeem(*client_from("127.2.0." + std::to_string(i + 1)), code).value().status, 200);
  }
  const auto registered = client_from("127.2.1.1")->Post(
      "/api/auth/register", registration_body(registrant("fresh", code)), "application/json");
  ASSERT_TRUE(registered);
  EXPECT_EQ(registered->status, 200) << registered->body;
}

TEST_F(Limits, FailedInviteAttemptsThroughRegistrationCountToo) {
  const std::string code = create_invite();
  auto c = client_from("127.0.0.6");
  for (int i = 0; i < 3; ++i) {
    const auto res = c->Post("/api/auth/register",
                             registration_body(registrant("g" + std::to_string(i), "WRONG")),
                             "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, kInvalid);
  }
  EXPECT_EQ(redeem(*c, "WRONG").value().status, 400);
  EXPECT_EQ(redeem(*c, "WRONG").value().status, 400);
  EXPECT_EQ(redeem(*c, code).value().status, 429);
}

TEST_F(Limits, RegistrationsHaveTheirOwnLimitPerAddress) {
  auto c = client_from("127.0.0.7");
  for (int i = 0; i < 4; ++i) {
    const auto res = c->Post("/api/auth/register", "{}", "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, i < 3 ? 400 : 429) << i << " " << res->body;
  }
  const auto other = client_from("127.0.0.8")->Post("/api/auth/register", "{}", "application/json");
  ASSERT_TRUE(other);
  EXPECT_EQ(other->status, 400);
}

TEST_F(Limits, RedisAwayIs503QuicklyAndServiceResumesWithoutRestart) {
  const std::string code = create_invite();
  // Many worker threads of both processes hold a Redis connection before it goes away.
  std::vector<std::thread> warm;
  for (int t = 0; t < 8; ++t) {
    warm.emplace_back([t] {
      for (int i = 0; i < 5; ++i) {
        client_from("127.0.3." + std::to_string(t * 5 + i + 1))
            ->Post("/api/auth/register", "{}", "application/json");
      }
    });
  }
  for (auto& t : warm) t.join();
  const std::vector<pid_t> redis = g_stack->redis_pids();  // every node of a cluster
  ASSERT_EQ(g_stack->signal_redis("TERM").exit_code, 0);
  for (int i = 0; i < 50 && std::any_of(redis.begin(), redis.end(), process_running); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  auto c = client_from("127.0.0.9");
  const std::string users_before = g_stack->query("SELECT count(*) FROM users");
  for (int i = 0; i < 4; ++i) {  // both processes, several threads
    const auto start = std::chrono::steady_clock::now();
    const auto res = redeem(*c, code);
    const auto reg = c->Post("/api/auth/register",
                             registration_body(registrant("r" + std::to_string(i), code)),
                             "application/json");
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
    ASSERT_TRUE(res);
    ASSERT_TRUE(reg);
    EXPECT_EQ(res->status, 503);
    EXPECT_EQ(reg->status, 503);
    EXPECT_FALSE(res->get_header_value("Retry-After").empty());
    EXPECT_EQ(reg->body,
              R"({"error":{"code":"service_unavailable","message":"the service is temporarily unavailable"}})");
  }
  EXPECT_EQ(g_stack->query("SELECT count(*) FROM users"), users_before);
  ASSERT_EQ(g_stack->up().exit_code, 0);  // Redis again; the handlers were never restarted
  for (int i = 0; i < 4; ++i) EXPECT_EQ(redeem(*c, code).value().status, 200) << i;
  for (int i = 0; i < 12; ++i) {  // stale connections are replaced, not failed on
    const auto reg = client_from("127.0.4." + std::to_string(i + 1))
                         ->Post("/api/auth/register",
                                registration_body(registrant("back" + std::to_string(i), code)),
                                "application/json");
    ASSERT_TRUE(reg);
    EXPECT_EQ(reg->status, 200) << i << " " << reg->body;
  }
}

TEST_F(Limits, RedisSlowerThanTheTimeoutIs503Quickly) {
  const std::string code = create_invite();
  auto c = client_from("127.0.0.10");
  ASSERT_EQ(redeem(*c, code).value().status, 200);  // connections are open and warm
  ASSERT_EQ(g_stack->signal_redis("STOP").exit_code, 0);  // Redis stops answering
  const auto start = std::chrono::steady_clock::now();
  const auto res = redeem(*c, code);
  const auto took = std::chrono::steady_clock::now() - start;
  ASSERT_EQ(g_stack->signal_redis("CONT").exit_code, 0);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_LT(took, std::chrono::seconds(1));
  EXPECT_EQ(redeem(*c, code).value().status, 200);  // and back by itself
}

TEST_F(Limits, NginxGuardsAgainstFloodsWithTheSameJsonShape) {
  auto c = client_from("127.0.0.11");
  int guarded = 0;
  for (int i = 0; i < 250 && guarded == 0; ++i) {
    const auto res = c->Post("/api/auth/invites/redeem", "{}", "application/json");
    ASSERT_TRUE(res);
    if (res->body.find("slow down") != std::string::npos) {
      ++guarded;
      EXPECT_EQ(res->status, 429);
      EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
      EXPECT_EQ(res->get_header_value("Retry-After"), "10");
      EXPECT_EQ(res->body,
                "{\"error\":{\"code\":\"rate_limited\",\"message\":\"too many requests, slow down\"}}\n");
    }
  }
  EXPECT_EQ(guarded, 1) << "nginx's limit_req never answered";
}

// The login budgets at their defaults (README, "Sessions"): an address that keeps failing is
// refused within 30 failures, then even with the right password (the answer does not tell a
// right guess from a wrong one); the account's owner elsewhere still logs in.
TEST_F(Limits, FailedLoginsAreLimitedPerAddressButNotForTheOwnerElsewhere) {
  const Registrant r = registrant("login", create_invite());
  const auto made = client_from("127.0.0.30")->Post("/api/auth/register", registration_body(r),
                                                     "application/json");
  ASSERT_TRUE(made && made->status == 200) << (made ? made->body : "");
  const auto login = [&](httplib::Client& c, const std::string& password) {
    return c.Post("/api/auth/login",
                  R"({"username":")" + r.username + R"(","password":")" + password + R"("})",
                  "application/json");
  };
  auto attacker = client_from("127.0.0.31");
  int failures = 0;
  for (; failures < 30; ++failures) {
    const auto res = login(*attacker, "Wr0ng!Guess" + std::to_string(failures));
    ASSERT_TRUE(res);
    if (res->status == 429) break;
    ASSERT_EQ(res->status, 401) << res->body;
  }
  EXPECT_LT(failures, 30) << "no 429 within 30 failures";
  const auto right = login(*attacker, r.password);
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 429) << "refused while limited, even with the right password";
  EXPECT_FALSE(right->get_header_value("Retry-After").empty());
  const auto owner = login(*client_from("127.0.0.32"), r.password);
  ASSERT_TRUE(owner);
  EXPECT_EQ(owner->status, 200) << owner->body;
}

TEST(FailOpen, AnOperatorMayLetRequestsThroughWhenRedisIsAway) {
  Stack open_stack("fail-open", 1, kLimits);
  ASSERT_EQ(open_stack.up({{"RATE_LIMIT_FAIL_OPEN", "true"}}).exit_code, 0);
  const CommandResult created = run_command("(CHATALOT_STACK_DIR='" + open_stack.dir() + "' '" +
                                            source_dir() + "/scripts/stack' ctl invite create 2>/dev/null)");
  const std::string code = created.output.substr(0, created.output.find('\n'));
  ASSERT_EQ(open_stack.signal_redis("TERM").exit_code, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto res = open_stack.client()->Post("/api/auth/invites/redeem",
                                             R"({"invite_code":")" + code + R"("})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
}

}  // namespace
}  // namespace chatalot::testing
