// The failure budgets of core/limits.h over the FakeLimiter of fakes.h: which Redis keys the
// budgets of a secret (a password, a recovery code) live under, and that only failures spend
// them, whatever refuses.
#include "core/limits.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "fakes.h"

namespace chatalot {
namespace {

using testing::FakeClock;
using testing::FakeLimiter;

constexpr RateLimit kPerAddress{0.05, 20};
constexpr RateLimit kPerAccountAddress{0.02, 10};
constexpr RateLimit kPerAccount{0.2, 50};

std::vector<Budget> login_budgets(std::string_view account, std::string_view addr = "203.0.113.7") {
  return account_budgets("login", account, addr, kPerAddress, kPerAccountAddress, kPerAccount);
}

std::vector<std::string> keys(const std::vector<Budget>& budgets) {
  std::vector<std::string> out;
  for (const Budget& b : budgets) out.push_back(b.key);
  return out;
}

TEST(AccountBudgets, AreTheAddressTheAccountAtTheAddressAndTheAccountInThatOrder) {
  const std::vector<Budget> b = login_budgets("alice");
  EXPECT_EQ(keys(b), (std::vector<std::string>{"chatalot:rl:login:addr:ip4:203.0.113.7",
                                               "chatalot:rl:login:acct-addr:alice:ip4:203.0.113.7",
                                               "chatalot:rl:login:acct:alice"}));
  ASSERT_EQ(b.size(), 3U);
  EXPECT_EQ(b[0].limit.burst, kPerAddress.burst);
  EXPECT_EQ(b[1].limit.burst, kPerAccountAddress.burst);
  EXPECT_EQ(b[2].limit.burst, kPerAccount.burst);
  // Each kind of secret has its own.
  EXPECT_EQ(keys(account_budgets("recover", "alice", "203.0.113.7", kPerAddress, kPerAccountAddress,
                                 kPerAccount))[2],
            "chatalot:rl:recover:acct:alice");
}

TEST(AccountBudgets, TheAccountIsTheUsernameIgnoringCase) {
  EXPECT_EQ(keys(login_budgets("Alice")), keys(login_budgets("alice")));
  EXPECT_EQ(keys(login_budgets("ALICE.B-1")), keys(login_budgets("alice.b-1")));
}

TEST(AccountBudgets, TheAddressIsTheClientsAsTheOtherBudgetsGroupIt) {
  EXPECT_EQ(keys(login_budgets("alice", "2001:db8:1:2::1")),
            keys(login_budgets("alice", "2001:db8:1:2:ffff::9")));  // one /64
  EXPECT_NE(keys(login_budgets("alice", "2001:db8:1:3::1"))[0],
            keys(login_budgets("alice", "2001:db8:1:2::1"))[0]);
  EXPECT_EQ(keys(login_budgets("alice", "::ffff:203.0.113.7")), keys(login_budgets("alice")));
}

// A name that is no username has no account: such names share one budget, and whatever the
// client sent, the key stays short and printable.
TEST(AccountBudgets, NamesThatAreNoUsernameShareOneShortKey) {
  const std::vector<std::string> shared = keys(login_budgets("a"));
  EXPECT_EQ(shared[2], "chatalot:rl:login:acct:~invalid");
  for (const std::string& name :
       {std::string("bad name"), std::string(10000, 'x'), std::string("evil\r\nFLUSHALL\r\n"),
        std::string("a..b"), std::string("x\0y", 3), std::string("\xff\xfe")}) {
    const std::vector<std::string> k = keys(login_budgets(name));
    EXPECT_EQ(k, shared);
    for (const std::string& key : k) EXPECT_LT(key.size(), 100U) << key;
  }
}

class FailureBudgetsTest : public ::testing::Test {
 protected:
  FakeClock clock;
  FakeLimiter limiter{clock};
  const std::vector<Budget> budgets = login_budgets("alice");
};

TEST_F(FailureBudgetsTest, BeginTakesOneFromEachAndSucceededGivesThemAllBack) {
  FailureBudgets b(limiter, budgets);
  ASSERT_TRUE(b.begin().is_ok());
  b.succeeded();
  for (const Budget& budget : budgets) {
    EXPECT_EQ(limiter.count(budget.key, LimitMode::kTake), 1) << budget.key;
    EXPECT_EQ(limiter.count(budget.key, LimitMode::kRefund), 1) << budget.key;
  }
  EXPECT_EQ(limiter.calls()[0].key, budgets[0].key);  // in order
  EXPECT_EQ(limiter.calls()[2].key, budgets[2].key);
}

TEST_F(FailureBudgetsTest, SuccessesNeverRunOut) {
  for (int i = 0; i < 200; ++i) {
    FailureBudgets b(limiter, budgets);
    ASSERT_TRUE(b.begin().is_ok()) << i;
    b.succeeded();
  }
}

TEST_F(FailureBudgetsTest, FailuresSpendTheSmallestBudgetFirst) {
  int allowed = 0;
  for (; allowed < 100; ++allowed) {
    FailureBudgets b(limiter, budgets);
    if (!b.begin().is_ok()) break;  // a failure: nothing given back
  }
  EXPECT_EQ(allowed, 10);  // the (account, address) burst
}

TEST_F(FailureBudgetsTest, ARefusalByALaterBudgetGivesTheEarlierOnesBack) {
  limiter.exhaust(budgets[2].key, budgets[2].limit);
  FailureBudgets b(limiter, budgets);
  const Status s = b.begin();
  EXPECT_EQ(s.code(), Code::kResourceExhausted);
  EXPECT_EQ(s.message(), Msg::kRateLimited.text());
  EXPECT_GE(s.retry_after(), 1);
  EXPECT_EQ(limiter.count(budgets[0].key, LimitMode::kRefund), 1);
  EXPECT_EQ(limiter.count(budgets[1].key, LimitMode::kRefund), 1);
  EXPECT_EQ(limiter.count(budgets[2].key, LimitMode::kRefund), 0);  // its take did not count
  // So a locked account does not use up the address's own budget.
  for (int i = 0; i < 30; ++i) (void)FailureBudgets(limiter, budgets).begin();
  FailureBudgets other(limiter, login_budgets("bob"));
  EXPECT_TRUE(other.begin().is_ok());
}

TEST_F(FailureBudgetsTest, AnUnreachableLimiterIsItsAnswerAndTheEarlierBudgetsGoBack) {
  limiter.fail_with(budgets[1].key, unavailable("Redis: MOVED to a lost master"));
  FailureBudgets b(limiter, budgets);
  const Status s = b.begin();
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(s.detail(), "Redis: MOVED to a lost master");
  // Every take that went through (all are sent at once) went back.
  for (const Budget& budget : {budgets[0], budgets[2]}) {
    EXPECT_EQ(limiter.count(budget.key, LimitMode::kTake), 1) << budget.key;
    EXPECT_EQ(limiter.count(budget.key, LimitMode::kRefund), 1) << budget.key;
  }
}

TEST_F(FailureBudgetsTest, GaveBackIsForAnAttemptThatCouldNotBeMade) {
  for (int i = 0; i < 50; ++i) {
    FailureBudgets b(limiter, budgets);
    ASSERT_TRUE(b.begin().is_ok()) << i;
    b.gave_back();
  }
}

TEST_F(FailureBudgetsTest, AFailingRefundIsLoggedNotThrown) {
  FailureBudgets b(limiter, budgets);
  ASSERT_TRUE(b.begin().is_ok());
  limiter.fail_with(unavailable("Redis: Connection reset by peer"));
  b.succeeded();  // nothing to assert but that it returns
  EXPECT_EQ(limiter.count(budgets[2].key, LimitMode::kRefund), 1);
}

}  // namespace
}  // namespace chatalot
