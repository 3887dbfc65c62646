// The invite check (POST /api/auth/invites/redeem), the admin's create and revoke, and the
// invite budget they share with registration, over the fakes of fakes.h. invite_spec_from_json
// has its own tests (admin_invites_test.cc).
#include "core/invites.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

#include "core/limits.h"
#include "fakes.h"
#include "refused.h"

namespace chatalot {
namespace {

using testing::refused;
using testing::FakeClock;
using testing::FakeInviteStore;
using testing::FakeLimiter;
using testing::FakeRandom;
using testing::invite_spec;

// README's defaults.
constexpr RateLimit kInviteLimit{0.1, 5};
constexpr RateLimit kInviteNetworkLimit{0.5, 25};

constexpr std::string_view kAddress = "203.0.113.7";
constexpr std::string_view kCode = "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345";
constexpr std::string_view kNormalisedCode = "ABCDEFGHJKMNPQRSTVWXYZ012345";
constexpr std::string_view kUnknownCode = "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ";
const std::optional<std::string> kAdmin = "22222222-0000-4000-8000-000000000001";

using testing::invite_key;
using testing::network_budget_key;
using testing::kFailuresCounter;

std::string body_with(std::string_view code) {
  return R"({"invite_code":")" + std::string(code) + R"("})";
}


// --- InviteBudget ------------------------------------------------------------------------------

class InviteBudgetTest : public ::testing::Test {
 protected:
  FakeClock clock;
  FakeLimiter limiter{clock};
  InviteBudget budget{limiter, kInviteLimit, kInviteNetworkLimit};
};

TEST_F(InviteBudgetTest, BeginTakesFromTheAddressThenFromItsNetwork) {
  ASSERT_TRUE(budget.begin(kAddress).is_ok());
  EXPECT_EQ(limiter.calls(),
            (std::vector<FakeLimiter::Call>{{invite_key(kAddress), LimitMode::kTake},
                                            {network_budget_key(kAddress), LimitMode::kTake}}));
}

TEST_F(InviteBudgetTest, ValidCodesGiveTheAttemptBackSoTheyNeverRunOut) {
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(budget.begin(kAddress).is_ok()) << i;
    budget.finish(kAddress, true);
  }
  EXPECT_EQ(limiter.count(invite_key(kAddress), LimitMode::kRefund), 20);
  EXPECT_EQ(limiter.count(network_budget_key(kAddress), LimitMode::kRefund), 20);
  EXPECT_EQ(limiter.counter(kFailuresCounter), 0);
}

TEST_F(InviteBudgetTest, FailuresSpendTheAddressAndNetworkBudgetsAndAreCounted) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(budget.begin(kAddress).is_ok()) << i;
    budget.finish(kAddress, false);
  }
  const Status limited = budget.begin(kAddress);
  EXPECT_EQ(limited.code(), Code::kResourceExhausted);
  EXPECT_EQ(limited.message(), Msg::kRateLimited.text());
  EXPECT_EQ(limited.retry_after(), 10);  // one interval at 0.1/s
  EXPECT_EQ(limiter.counter(kFailuresCounter), 5);
  EXPECT_EQ(limiter.count(invite_key(kAddress), LimitMode::kRefund), 0);
  // A limited attempt does not spend its network's budget (taken with the address's in one
  // round trip, it went back).
  const std::string network = network_budget_key(kAddress);
  EXPECT_EQ(limiter.count(network, LimitMode::kTake) - limiter.count(network, LimitMode::kRefund), 5);
  // Another address is not limited, and ten seconds later this one may try once more.
  EXPECT_TRUE(budget.begin("198.51.100.1").is_ok());
  clock.advance(10);
  EXPECT_TRUE(budget.begin(kAddress).is_ok());
}

TEST_F(InviteBudgetTest, AddressesOfOneIpv6Slash64ShareABudget) {
  limiter.exhaust(invite_key("2001:db8:1:2::1"), kInviteLimit);
  EXPECT_EQ(budget.begin("2001:db8:1:2:ffff::9").code(), Code::kResourceExhausted);
  EXPECT_TRUE(budget.begin("2001:db8:1:3::1").is_ok());
}

TEST_F(InviteBudgetTest, AnExhaustedNetworkRefusesAndGivesTheAddressItsAttemptBack) {
  limiter.exhaust(network_budget_key(kAddress), kInviteNetworkLimit);
  const Status refused = budget.begin(kAddress);
  EXPECT_EQ(refused.code(), Code::kResourceExhausted);
  EXPECT_GE(refused.retry_after(), 1);
  EXPECT_EQ(limiter.calls(),
            (std::vector<FakeLimiter::Call>{{invite_key(kAddress), LimitMode::kTake},
                                            {network_budget_key(kAddress), LimitMode::kTake},
                                            {invite_key(kAddress), LimitMode::kRefund}}));
  // Another network is not affected.
  EXPECT_TRUE(budget.begin("203.0.114.7").is_ok());
  // Given back for real: with a network budget that has room again, the address still has all
  // five attempts.
  InviteBudget roomier{limiter, kInviteLimit, RateLimit{1, 1000}};
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(roomier.begin(kAddress).is_ok()) << i;
    roomier.finish(kAddress, false);
  }
  EXPECT_EQ(roomier.begin(kAddress).code(), Code::kResourceExhausted);
}

TEST_F(InviteBudgetTest, UnreachableLimiterIs503WithTheLibraryTextInTheDetailOnly) {
  limiter.fail_with(unavailable("Redis: Connection reset by peer"));
  const Status s = budget.begin(kAddress);
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(s.message(), Msg::kUnavailable.text());
  EXPECT_EQ(s.detail(), "Redis: Connection reset by peer");
}

// --- check_invite ------------------------------------------------------------------------------

class CheckInvite : public ::testing::Test {
 protected:
  void SetUp() override { invites.add(kCode, invite_spec(3, 48)); }

  Result<UsableInvite> check(std::string_view body, std::string_view addr = kAddress) {
    return check_invite(body, addr, deps);
  }

  InviteCheckPolicy policy{RegistrationMode::kInviteOnly, kInviteLimit, kInviteNetworkLimit};
  FakeClock clock;
  FakeLimiter limiter{clock};
  FakeInviteStore invites{clock};
  InviteCheckDeps deps{policy, invites, limiter};
};

TEST_F(CheckInvite, ClosedModeIsRefusedBeforeAnyBudgetIsSpent) {
  policy.mode = RegistrationMode::kClosed;
  EXPECT_TRUE(refused(check(body_with(kCode)), Code::kInvalidArgument, Msg::kRegistrationClosed));
  EXPECT_TRUE(refused(check("not JSON"), Code::kInvalidArgument, Msg::kRegistrationClosed));
  EXPECT_TRUE(limiter.calls().empty());
  EXPECT_TRUE(invites.lookups().empty());
}

TEST_F(CheckInvite, ValidCodeAnswersExpiryAndUsesLeftAndConsumesNothing) {
  ASSERT_TRUE(invites.consume(kNormalisedCode));  // one of three used by an earlier registration
  Result<UsableInvite> r = check(body_with(kCode));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->expires_at, testing::rfc3339(testing::kStartTime + 48 * 3600));
  EXPECT_EQ(r->uses_remaining, 2);
  EXPECT_EQ(invites.find(kCode)->used_count, 1);
  ASSERT_EQ(invites.lookups().size(), 1U);
  EXPECT_EQ(invites.lookups()[0], kNormalisedCode);
  EXPECT_EQ(limiter.count(invite_key(kAddress), LimitMode::kRefund), 1);
  EXPECT_EQ(limiter.counter(kFailuresCounter), 0);
}

TEST_F(CheckInvite, UnlimitedInviteHasNoExpiryAndNoUseCount) {
  invites.add("7777-8888");
  Result<UsableInvite> r = check(body_with("7777-8888"));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_FALSE(r->expires_at);
  EXPECT_FALSE(r->uses_remaining);
}

TEST_F(CheckInvite, CodeIsNormalisedBeforeTheLookup) {
  // Lower case, blanks and no dashes, Crockford's aliases (o for 0, i for 1).
  EXPECT_TRUE(check(body_with(" abcdefgh jkmnpqrs tvwxyzoi 2345 ")).is_ok());
  ASSERT_EQ(invites.lookups().size(), 1U);
  EXPECT_EQ(invites.lookups()[0], kNormalisedCode);
}

TEST_F(CheckInvite, OpenModeStillChecksTheCode) {
  policy.mode = RegistrationMode::kOpen;
  EXPECT_TRUE(check(body_with(kCode)).is_ok());
  EXPECT_TRUE(refused(check(body_with(kUnknownCode)), Code::kInvalidArgument, Msg::kInviteInvalid));
}

TEST_F(CheckInvite, BudgetComesBeforeTheBodyAndTheBodySpendsTheAttempt) {
  EXPECT_TRUE(refused(check("{"), Code::kInvalidArgument, Msg::kBodyInvalidJson));
  EXPECT_TRUE(refused(check("[]"), Code::kInvalidArgument, Msg::kBodyNotObject));
  // Guessing with broken bodies is still guessing: the attempts stay spent, but were no
  // lookup, so they count against no one else.
  EXPECT_EQ(limiter.count(invite_key(kAddress), LimitMode::kTake), 2);
  EXPECT_EQ(limiter.count(invite_key(kAddress), LimitMode::kRefund), 0);
  EXPECT_EQ(limiter.counter(kFailuresCounter), 0);
  EXPECT_TRUE(invites.lookups().empty());
}

TEST_F(CheckInvite, CodeMustBeAString) {
  for (const char* body : {"{}", R"({"invite_code":null})", R"({"invite_code":42})",
                           R"({"invite_code":["ABCD"]})", R"({"code":"ABCD"})"}) {
    EXPECT_TRUE(refused(check(body), Code::kInvalidArgument, Msg::kInviteCodeNotString)) << body;
  }
  EXPECT_TRUE(invites.lookups().empty());
}

TEST_F(CheckInvite, UnknownExpiredRevokedAndUsedUpAreOneMessage) {
  invites.add("1111-1111", invite_spec(std::nullopt, 1));
  clock.advance(3600);
  const std::string revoked = invites.add("2222-2222").id;
  ASSERT_TRUE(invites.revoke(revoked, kAdmin, "").is_ok());
  invites.add("3333-3333", invite_spec(1));
  ASSERT_TRUE(invites.consume("33333333"));
  for (std::string_view code : {kUnknownCode, std::string_view("1111-1111"),
                                std::string_view("2222-2222"), std::string_view("3333-3333")}) {
    EXPECT_TRUE(refused(check(body_with(code)), Code::kInvalidArgument, Msg::kInviteInvalid))
        << code;
  }
  EXPECT_EQ(invites.lookups().size(), 4U);
  // Each failure is counted and keeps the address's and the network's attempt.
  EXPECT_EQ(limiter.counter(kFailuresCounter), 4);
  EXPECT_EQ(limiter.count(network_budget_key(kAddress), LimitMode::kRefund), 0);
  EXPECT_EQ(limiter.count(invite_key(kAddress), LimitMode::kRefund), 0);
}

TEST_F(CheckInvite, CodeThatCannotBeNormalisedIsInvalidWithoutALookup) {
  EXPECT_TRUE(refused(check(body_with("ABCD-!!!!")), Code::kInvalidArgument, Msg::kInviteInvalid));
  EXPECT_TRUE(refused(check(body_with("")), Code::kInvalidArgument, Msg::kInviteInvalid));
  EXPECT_TRUE(refused(check(body_with(std::string(300, 'A'))), Code::kInvalidArgument,
                      Msg::kInviteInvalid));
  EXPECT_TRUE(invites.lookups().empty());
  EXPECT_EQ(limiter.counter(kFailuresCounter), 3);  // still a failed guess
}

TEST_F(CheckInvite, LimitedAddressGets429WithRetryAfterEvenForAValidCode) {
  limiter.exhaust(invite_key(kAddress), kInviteLimit);
  Result<UsableInvite> r = check(body_with(kCode));
  EXPECT_TRUE(refused(r, Code::kResourceExhausted, Msg::kRateLimited));
  EXPECT_EQ(r.status().retry_after(), 10);
  EXPECT_TRUE(invites.lookups().empty());
  // The limit comes before the body.
  EXPECT_TRUE(refused(check("{"), Code::kResourceExhausted, Msg::kRateLimited));
}

TEST_F(CheckInvite, SixthFailureFromOneAddressIs429) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(
        refused(check(body_with(kUnknownCode)), Code::kInvalidArgument, Msg::kInviteInvalid));
  }
  EXPECT_TRUE(refused(check(body_with(kCode)), Code::kResourceExhausted, Msg::kRateLimited));
  EXPECT_TRUE(check(body_with(kCode), "198.51.100.1").is_ok());
}

TEST_F(CheckInvite, ExhaustedNetworkBudgetIs429AndGivesTheAttemptBack) {
  limiter.exhaust(network_budget_key(kAddress), kInviteNetworkLimit);
  EXPECT_TRUE(refused(check(body_with(kCode)), Code::kResourceExhausted, Msg::kRateLimited));
  EXPECT_EQ(limiter.count(invite_key(kAddress), LimitMode::kTake), 1);
  EXPECT_EQ(limiter.count(invite_key(kAddress), LimitMode::kRefund), 1);
  EXPECT_TRUE(invites.lookups().empty());
}

TEST_F(CheckInvite, FailedLookupIsTheStoresStatusAndGivesTheAttemptBack) {
  invites.failures.find_usable = unavailable("PostgreSQL: connection to server was lost");
  Result<UsableInvite> r = check(body_with(kCode));
  EXPECT_TRUE(refused(r, Code::kUnavailable, Msg::kUnavailable));
  EXPECT_EQ(r.status().detail(), "PostgreSQL: connection to server was lost");
  EXPECT_EQ(limiter.count(invite_key(kAddress), LimitMode::kRefund), 1);
  EXPECT_EQ(limiter.counter(kFailuresCounter), 0);
}

// SPEC guarantee 9: failures made from other networks, however many, never refuse a valid code.
TEST_F(CheckInvite, AValidCodeIsNeverRefusedForFailuresFromOtherNetworks) {
  for (int net = 0; net < 200; ++net) {
    for (int host = 1; host <= 6; ++host) {
      const std::string addr = "10." + std::to_string(net) + ".0." + std::to_string(host);
      (void)check(body_with(kUnknownCode), addr);
    }
  }
  EXPECT_EQ(limiter.counter(kFailuresCounter), 1200);
  EXPECT_TRUE(check(body_with(kCode), "192.0.2.1").is_ok());
}

// The addresses of one /24 share its larger budget: 25 different hosts failing once each spend
// it, and then even a valid code from that network waits.
TEST_F(CheckInvite, OneNetworkSharesOneLargerBudget) {
  for (int host = 1; host <= 25; ++host) {
    EXPECT_TRUE(refused(check(body_with(kUnknownCode), "198.51.100." + std::to_string(host)),
                        Code::kInvalidArgument, Msg::kInviteInvalid))
        << host;
  }
  EXPECT_TRUE(refused(check(body_with(kCode), "198.51.100.200"), Code::kResourceExhausted,
                      Msg::kRateLimited));
  EXPECT_TRUE(check(body_with(kCode), "198.51.101.1").is_ok());
}

TEST_F(CheckInvite, UnreachableLimiterIs503WithoutALookup) {
  limiter.fail_with(unavailable("Redis: timeout after 50 ms"));
  Result<UsableInvite> r = check(body_with(kCode));
  EXPECT_TRUE(refused(r, Code::kUnavailable, Msg::kUnavailable));
  EXPECT_EQ(r.status().detail(), "Redis: timeout after 50 ms");
  EXPECT_TRUE(invites.lookups().empty());
}

// --- create_invite -----------------------------------------------------------------------------

class CreateInvite : public ::testing::Test {
 protected:
  FakeClock clock;
  FakeInviteStore invites{clock};
  FakeRandom random;
};

TEST_F(CreateInvite, CodeComesFromRandomAndTheStoreGetsItNormalised) {
  Result<CreatedInvite> r =
      create_invite(invite_spec(10, 24, "for Ana"), kAdmin, "req-7", invites, random);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  // FakeRandom's bytes are 0, 1, 2, ...: Crockford characters 0 to 27.
  EXPECT_EQ(r->code, "0123-4567-89AB-CDEF-GHJK-MNPQ-RSTV");
  ASSERT_EQ(invites.created().size(), 1U);
  const NewInvite& sent = invites.created()[0];
  EXPECT_EQ(sent.code, "0123456789ABCDEFGHJKMNPQRSTV");
  EXPECT_EQ(sent.spec.max_uses, 10);
  EXPECT_EQ(sent.spec.expires_in_hours, 24);
  EXPECT_EQ(sent.spec.note, "for Ana");
  EXPECT_EQ(sent.created_by, kAdmin);
  EXPECT_EQ(sent.request_id, "req-7");
  // The answer is the stored invite plus the code.
  const Invite* stored = invites.find(r->code);
  ASSERT_NE(stored, nullptr);
  EXPECT_EQ(r->invite.id, stored->id);
  EXPECT_EQ(r->invite.code_hint, "0123");
  // The code shown redeems the invite.
  InviteCheckPolicy policy{RegistrationMode::kInviteOnly, kInviteLimit, kInviteNetworkLimit};
  FakeLimiter limiter{clock};
  InviteCheckDeps deps{policy, invites, limiter};
  EXPECT_TRUE(check_invite(body_with(r->code), kAddress, deps).is_ok());
}

TEST_F(CreateInvite, ShellInvitesHaveNoCreator) {
  ASSERT_TRUE(create_invite({}, std::nullopt, "", invites, random).is_ok());
  ASSERT_EQ(invites.created().size(), 1U);
  EXPECT_FALSE(invites.created()[0].created_by);
}

TEST_F(CreateInvite, SpecOutOfRangeIsRefusedBeforeAnythingIsDrawnOrStored) {
  EXPECT_TRUE(refused(create_invite(invite_spec(0), kAdmin, "", invites, random),
                      Code::kInvalidArgument, Msg::kMaxUsesRange));
  EXPECT_TRUE(refused(create_invite(invite_spec(2147483648), kAdmin, "", invites, random),
                      Code::kInvalidArgument, Msg::kMaxUsesRange));
  EXPECT_TRUE(refused(create_invite(invite_spec(1, 8761), kAdmin, "", invites, random),
                      Code::kInvalidArgument, Msg::kExpiresRange));
  EXPECT_TRUE(refused(create_invite(invite_spec(1, 0), kAdmin, "", invites, random),
                      Code::kInvalidArgument, Msg::kExpiresRange));
  EXPECT_TRUE(refused(create_invite(invite_spec(1, 1, "line\nbreak"), kAdmin, "", invites, random),
                      Code::kInvalidArgument, Msg::kNoteRange));
  EXPECT_TRUE(refused(create_invite(invite_spec(0, 0, "\t"), kAdmin, "", invites, random),
                      Code::kInvalidArgument, Msg::kMaxUsesRange));  // the first range first
  EXPECT_EQ(random.calls(), 0);
  EXPECT_TRUE(invites.created().empty());
}

TEST_F(CreateInvite, RandomFailureIs503AndStoresNothing) {
  random.fail_with(unavailable("RAND_bytes: error:12000090"));
  Result<CreatedInvite> r = create_invite({}, kAdmin, "", invites, random);
  EXPECT_TRUE(refused(r, Code::kUnavailable, Msg::kUnavailable));
  EXPECT_EQ(r.status().detail(), "RAND_bytes: error:12000090");
  EXPECT_TRUE(invites.created().empty());
}

TEST_F(CreateInvite, StoreFailurePassesThrough) {
  invites.failures.create = unavailable("PostgreSQL: could not serialize access");
  Result<CreatedInvite> r = create_invite({}, kAdmin, "", invites, random);
  EXPECT_TRUE(refused(r, Code::kUnavailable, Msg::kUnavailable));
  EXPECT_EQ(r.status().detail(), "PostgreSQL: could not serialize access");
}

// --- revoke_invite -----------------------------------------------------------------------------

class RevokeInvite : public ::testing::Test {
 protected:
  FakeClock clock;
  FakeInviteStore invites{clock};
};

TEST_F(RevokeInvite, RevokesAndAnswersTheInvite) {
  const std::string id = invites.add(kCode).id;
  clock.advance(60);
  Result<Invite> r = revoke_invite(id, kAdmin, "req-9", invites);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->id, id);
  EXPECT_EQ(r->revoked_at, testing::rfc3339(testing::kStartTime + 60));
  ASSERT_EQ(invites.revoked().size(), 1U);
  EXPECT_EQ(invites.revoked()[0].actor, kAdmin);
  EXPECT_EQ(invites.revoked()[0].request_id, "req-9");
  EXPECT_FALSE(invites.find_usable(kNormalisedCode)->has_value());
}

TEST_F(RevokeInvite, NonUuidIsNotFoundWithoutAskingTheStore) {
  for (const char* id : {"", "42", "not-a-uuid", "00000000-0000-4000-8000-00000000000g",
                         "00000000000040008000000000000001", "'; DROP TABLE invites; --"}) {
    EXPECT_TRUE(
        refused(revoke_invite(id, kAdmin, "", invites), Code::kNotFound, Msg::kInviteNotFound))
        << id;
  }
  EXPECT_TRUE(invites.revoked().empty());
}

TEST_F(RevokeInvite, UnknownIdIsNotFound) {
  EXPECT_TRUE(refused(revoke_invite("00000000-0000-4000-8000-000000000099", kAdmin, "", invites),
                      Code::kNotFound, Msg::kInviteNotFound));
  EXPECT_EQ(invites.revoked().size(), 1U);
}

TEST_F(RevokeInvite, StoreFailurePassesThrough) {
  const std::string id = invites.add(kCode).id;
  invites.failures.revoke = unavailable("PostgreSQL: the database system is shutting down");
  Result<Invite> r = revoke_invite(id, kAdmin, "", invites);
  EXPECT_TRUE(refused(r, Code::kUnavailable, Msg::kUnavailable));
  EXPECT_EQ(r.status().detail(), "PostgreSQL: the database system is shutting down");
}

}  // namespace
}  // namespace chatalot
