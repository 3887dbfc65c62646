// Sessions over the fakes of fakes.h (SPEC section 3, "The session lifecycle"): login, refresh,
// logout and recovery; what each refusal tells the client, in which order, what it spends (the
// three failure budgets, the hash work, the store), and what a success hands out and stores.
#include "core/sessions.h"

#include <gtest/gtest.h>

#include <deque>
#include <initializer_list>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/codes.h"
#include "core/limits.h"
#include "core/text.h"
#include "fakes.h"
#include "refused.h"

namespace chatalot {
namespace {

using testing::refused;
using testing::FakeClock;
using testing::FakeHasher;
using testing::FakeLimiter;
using testing::FakeRandom;
using testing::FakeSessionStore;
using testing::FakeSigner;

// README's defaults: per address, per (account, address), per account.
const CredentialLimits kLimits{{0.05, 20}, {0.02, 10}, {0.2, 50}};

constexpr std::string_view kAddress = "203.0.113.7";
constexpr std::string_view kOtherAddress = "198.51.100.9";
constexpr std::string_view kRequestId = "req-1";
constexpr std::string_view kPassword = "Correct-horse-9";
constexpr std::string_view kNewPassword = "Battery-staple-7";
// Not the first code FakeRandom's bytes make ("ABCD-EFGH-JKLM-NPQR"), so a new one differs.
constexpr std::string_view kRecoveryCode = "WXYZ-WXYZ-2345-2345";
constexpr std::string_view kFirefox =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
// Well-formed refresh tokens (64 lower-case hex characters) that no session holds.
const std::string kUnknownToken(64, 'a');

std::string json_string(std::string_view s) { return "\"" + std::string(s) + "\""; }

// A JSON object of raw JSON values, so a test can send any type.
std::string object(std::initializer_list<std::pair<std::string_view, std::string>> fields) {
  std::string out = "{";
  for (const auto& [name, value] : fields) {
    out += (out.size() > 1 ? "," : "") + json_string(name) + ":" + value;
  }
  return out + "}";
}

std::string login_body(std::string_view username, std::string_view password) {
  return object({{"username", json_string(username)}, {"password", json_string(password)}});
}

std::string token_body(std::string_view token) {
  return object({{"refresh_token", json_string(token)}});
}

std::string recover_body(std::string_view username, std::string_view code,
                         std::string_view password) {
  return object({{"username", json_string(username)},
                 {"recovery_code", json_string(code)},
                 {"new_password", json_string(password)}});
}


// The three budgets of one kind of secret, as operators see them in Redis.
struct Keys {
  std::string address, account_address, account;
};
Keys keys_of(std::string_view kind, std::string_view account, std::string_view addr = kAddress) {
  const std::string prefix = "chatalot:rl:" + std::string(kind);
  return {prefix + ":addr:" + client_key(addr),
          prefix + ":acct-addr:" + std::string(account) + ":" + client_key(addr),
          prefix + ":acct:" + std::string(account)};
}

class SessionsTest : public ::testing::Test {
 protected:
  void SetUp() override { alice_id = sessions.add("alice", kPassword, kRecoveryCode).id; }

  SessionRequest request(const std::string& body, std::string_view addr = kAddress) {
    bodies_.push_back(body);
    return {bodies_.back(), addr, kFirefox, kRequestId};
  }

  // Whether each of the budgets was taken once and given back once (or kept, when not).
  void expect_budgets(const Keys& keys, bool given_back) {
    for (const std::string* key : {&keys.address, &keys.account_address, &keys.account}) {
      EXPECT_EQ(limiter.count(*key, LimitMode::kTake), 1) << *key;
      EXPECT_EQ(limiter.count(*key, LimitMode::kRefund), given_back ? 1 : 0) << *key;
    }
  }

  FakeClock clock;
  FakeLimiter limiter{clock};
  FakeSessionStore sessions{clock};
  FakeHasher hasher;
  FakeSigner signer;
  FakeRandom random;
  std::string alice_id;

 private:
  std::deque<std::string> bodies_;  // the requests' views point into these
};

// --- Login ---------------------------------------------------------------------------------

class Login : public SessionsTest {
 protected:
  Result<SignedIn> login_with(const std::string& body, std::string_view addr = kAddress) {
    return login(request(body, addr), deps);
  }
  Result<SignedIn> login_as(std::string_view username, std::string_view password,
                            std::string_view addr = kAddress) {
    return login_with(login_body(username, password), addr);
  }

  LoginDeps deps{kLimits, sessions, limiter, hasher, signer, clock, random};
};

TEST_F(Login, TheBodysTypesAreCheckedFirstAndSpendNothing) {
  EXPECT_TRUE(refused(login_with("{"), Code::kInvalidArgument, Msg::kBodyInvalidJson));
  EXPECT_TRUE(refused(login_with("[]"), Code::kInvalidArgument, Msg::kBodyNotObject));
  EXPECT_TRUE(refused(login_with("{}"), Code::kInvalidArgument, Msg::kUsernameNotString));
  EXPECT_TRUE(refused(login_with(object({{"username", "7"}, {"password", "7"}})),
                      Code::kInvalidArgument, Msg::kUsernameNotString));
  EXPECT_TRUE(
      refused(login_with(object({{"username", "null"}, {"password", json_string(kPassword)}})),
              Code::kInvalidArgument, Msg::kUsernameNotString));
  EXPECT_TRUE(refused(login_with(object({{"username", json_string("alice")}})),
                      Code::kInvalidArgument, Msg::kPasswordNotString));
  EXPECT_TRUE(refused(login_with(object({{"username", json_string("alice")}, {"password", "[]"}})),
                      Code::kInvalidArgument, Msg::kPasswordNotString));
  EXPECT_TRUE(limiter.calls().empty());
  EXPECT_TRUE(sessions.username_lookups().empty());
  EXPECT_TRUE(hasher.verifications().empty());
}

TEST_F(Login, TotpCodeIsAcceptedAndIgnored) {
  for (const char* totp : {R"("123456")", "123456", "null", R"("")"}) {
    Result<SignedIn> r = login_with(object({{"username", json_string("alice")},
                                            {"password", json_string(kPassword)},
                                            {"totp_code", totp}}));
    EXPECT_TRUE(r.is_ok()) << totp << ": " << r.status().message();
  }
}

// Each budget refuses on its own, even the right password (the answer must not tell a right
// guess from a wrong one), before the account is looked up or any hash work is done; the
// budgets taken before the refusing one are given back.
TEST_F(Login, EachBudgetRefusesEvenTheRightPasswordWithoutLookingAnythingUp) {
  const Keys keys = keys_of("login", "alice");
  const std::pair<const std::string*, const RateLimit*> budgets[] = {
      {&keys.address, &kLimits.per_address},
      {&keys.account_address, &kLimits.per_account_address},
      {&keys.account, &kLimits.per_account}};
  for (std::size_t i = 0; i < std::size(budgets); ++i) {
    SCOPED_TRACE(*budgets[i].first);
    FakeLimiter fresh{clock};
    LoginDeps limited{kLimits, sessions, fresh, hasher, signer, clock, random};
    fresh.exhaust(*budgets[i].first, *budgets[i].second);
    Result<SignedIn> r = login(request(login_body("alice", kPassword)), limited);
    EXPECT_TRUE(refused(r, Code::kResourceExhausted, Msg::kRateLimited));
    EXPECT_GE(r.status().retry_after(), 1);
    for (std::size_t j = 0; j < i; ++j) {
      EXPECT_EQ(fresh.count(*budgets[j].first, LimitMode::kRefund), 1) << *budgets[j].first;
    }
  }
  EXPECT_TRUE(sessions.username_lookups().empty());
  EXPECT_TRUE(hasher.verifications().empty());
  EXPECT_TRUE(sessions.started().empty());
}

TEST_F(Login, UnknownUserIs401AfterTheSameHashWork) {
  Result<SignedIn> r = login_as("mallory", kPassword);
  EXPECT_TRUE(refused(r, Code::kUnauthenticated, Msg::kInvalidCredentials));
  EXPECT_EQ(sessions.username_lookups(), std::vector<std::string>{"mallory"});
  ASSERT_EQ(hasher.verifications().size(), 1U);
  EXPECT_EQ(hasher.verifications()[0].phc, std::nullopt);  // the hasher's dummy work
  EXPECT_EQ(hasher.verifications()[0].password, kPassword);
  expect_budgets(keys_of("login", "mallory"), false);
  EXPECT_TRUE(sessions.started().empty());
}

// A name no account can have is not looked up, but costs the same work and shares one budget.
TEST_F(Login, ANameThatIsNoUsernameIs401WithoutALookupButWithTheWork) {
  for (const std::string& name : {std::string("a"), std::string("bad name"), std::string(300, 'x'),
                                  std::string("\\u0007bell")}) {
    EXPECT_TRUE(refused(
        login_with(object({{"username", json_string(name)}, {"password", json_string(kPassword)}})),
        Code::kUnauthenticated, Msg::kInvalidCredentials))
        << name;
  }
  EXPECT_TRUE(sessions.username_lookups().empty());
  EXPECT_EQ(hasher.verifications().size(), 4U);
  EXPECT_EQ(limiter.count("chatalot:rl:login:acct:~invalid", LimitMode::kTake), 4);
}

TEST_F(Login, WrongPasswordIsTheSame401AndKeepsTheBudgets) {
  Result<SignedIn> r = login_as("alice", "Wrong-horse-9");
  EXPECT_TRUE(refused(r, Code::kUnauthenticated, Msg::kInvalidCredentials));
  ASSERT_EQ(hasher.verifications().size(), 1U);
  EXPECT_EQ(hasher.verifications()[0].phc, FakeHasher::hashed(kPassword));
  expect_budgets(keys_of("login", "alice"), false);
  EXPECT_TRUE(sessions.started().empty());
  EXPECT_TRUE(signer.signed_claims().empty());
}

// SPEC: with the defaults an address that keeps failing gets 429 after at most 30 failures.
TEST_F(Login, AnAddressThatKeepsFailingIsLimitedWithinThirtyFailures) {
  int failures = 0;
  for (; failures < 31; ++failures) {
    // A different account each time: the per-address budget is the one that counts.
    Result<SignedIn> r = login_as("user" + std::to_string(failures), "Wrong-horse-9");
    if (!r.is_ok() && r.status().code() == Code::kResourceExhausted) break;
    EXPECT_TRUE(refused(r, Code::kUnauthenticated, Msg::kInvalidCredentials));
  }
  EXPECT_LE(failures, 30);
  EXPECT_GE(failures, 5);  // a person mistyping a few times is not locked out
  // Limited, the right password is refused the same way...
  EXPECT_TRUE(refused(login_as("alice", kPassword), Code::kResourceExhausted, Msg::kRateLimited));
  // ...while the owner of the account logs in from elsewhere.
  EXPECT_TRUE(login_as("alice", kPassword, kOtherAddress).is_ok());
  // And after a while, from here too.
  clock.advance(60);
  EXPECT_TRUE(login_as("alice", kPassword).is_ok());
}

TEST_F(Login, GuessingOneAccountFromOneAddressIsLimitedSooner) {
  int failures = 0;
  for (; failures < 31; ++failures) {
    Result<SignedIn> r = login_as("alice", "Wrong-horse-9");
    if (!r.is_ok() && r.status().code() == Code::kResourceExhausted) break;
  }
  EXPECT_EQ(failures, 10);  // the (account, address) burst
  // Another account from this address is still tried.
  EXPECT_TRUE(
      refused(login_as("bob", "Wrong-horse-9"), Code::kUnauthenticated, Msg::kInvalidCredentials));
}

TEST_F(Login, UsernamesDifferingInCaseShareTheirBudgets) {
  for (int i = 0; i < 10; ++i) {
    (void)login_as(i % 2 ? "ALICE" : "Alice", "Wrong-horse-9");
  }
  EXPECT_TRUE(refused(login_as("alice", kPassword), Code::kResourceExhausted, Msg::kRateLimited));
}

TEST_F(Login, ASuspendedAccountIs403OnlyAfterTheRightPassword) {
  sessions.account(alice_id)->suspended_at = "2025-06-15T15:00:00Z";
  // A wrong password does not learn that the account is suspended.
  EXPECT_TRUE(refused(login_as("alice", "Wrong-horse-9"), Code::kUnauthenticated,
                      Msg::kInvalidCredentials));
  EXPECT_TRUE(
      refused(login_as("alice", kPassword), Code::kPermissionDenied, Msg::kAccountSuspended));
  EXPECT_TRUE(sessions.started().empty());
  EXPECT_TRUE(signer.signed_claims().empty());
  EXPECT_EQ(sessions.live_count(alice_id), 0);
}

TEST_F(Login, SuccessStartsASessionAndGivesTheBudgetsBack) {
  signer.set_lifetime_seconds(300);  // ACCESS_TOKEN_SECONDS
  Result<SignedIn> r = login_as("ALICE", kPassword);  // the username ignoring case
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  expect_budgets(keys_of("login", "alice"), true);

  ASSERT_EQ(sessions.started().size(), 1U);
  const NewSession& started = sessions.started()[0];
  EXPECT_EQ(started.user_id, alice_id);
  EXPECT_EQ(started.refresh_token, r->refresh_token);
  EXPECT_TRUE(is_refresh_token(r->refresh_token)) << r->refresh_token;
  EXPECT_EQ(started.origin.device_name, "Firefox on Linux");
  EXPECT_EQ(started.origin.ip_address, kAddress);
  EXPECT_EQ(started.request_id, kRequestId);
  EXPECT_EQ(started.rehashed_password, std::nullopt);  // the hash has the configured cost
  EXPECT_EQ(sessions.live_count(alice_id), 1);
  EXPECT_TRUE(sessions.token_usable(r->refresh_token));

  EXPECT_EQ(r->account.id, alice_id);
  EXPECT_EQ(r->account.username, "alice");  // as stored, not as typed
  EXPECT_EQ(r->access_token, "token-for-" + alice_id);
  ASSERT_EQ(signer.signed_claims().size(), 1U);
  const AccessClaims& claims = signer.signed_claims()[0];
  EXPECT_EQ(claims.sub, alice_id);
  EXPECT_EQ(claims.username, "alice");
  EXPECT_EQ(claims.sid, sessions.sessions().back().id);
  EXPECT_FALSE(claims.is_admin);
  EXPECT_FALSE(claims.is_owner);
  EXPECT_EQ(claims.iat, clock.now_seconds());
  EXPECT_EQ(claims.exp, claims.iat + 300);
  EXPECT_EQ(claims.aud, "chatalot");
  EXPECT_TRUE(is_uuid(claims.jti)) << claims.jti;
}

TEST_F(Login, EachLoginIsItsOwnSession) {
  Result<SignedIn> first = login_as("alice", kPassword);
  Result<SignedIn> second = login_as("alice", kPassword, kOtherAddress);
  ASSERT_TRUE(first.is_ok() && second.is_ok());
  EXPECT_NE(first->refresh_token, second->refresh_token);
  EXPECT_EQ(sessions.live_count(alice_id), 2);  // the second device does not end the first
  ASSERT_EQ(signer.signed_claims().size(), 2U);
  EXPECT_NE(signer.signed_claims()[0].sid, signer.signed_claims()[1].sid);
  EXPECT_NE(signer.signed_claims()[0].jti, signer.signed_claims()[1].jti);
}

TEST_F(Login, TheOwnersTokenSaysAdminToo) {
  Account& owner = sessions.add("olivia", kPassword);
  owner.is_owner = true;
  ASSERT_TRUE(login_as("olivia", kPassword).is_ok());
  EXPECT_TRUE(signer.signed_claims().back().is_owner);
  EXPECT_TRUE(signer.signed_claims().back().is_admin);
}

TEST_F(Login, AHashOfOtherParametersIsReplacedOnSuccess) {
  sessions.account(alice_id)->password_hash =
      std::string(FakeHasher::kOldPrefix) + std::string(kPassword);
  ASSERT_TRUE(login_as("alice", kPassword).is_ok());
  ASSERT_EQ(sessions.started().size(), 1U);
  EXPECT_EQ(sessions.started()[0].rehashed_password, FakeHasher::hashed(kPassword));
  EXPECT_EQ(sessions.account(alice_id)->password_hash, FakeHasher::hashed(kPassword));
  EXPECT_EQ(hasher.calls(), 1);
  // Not on a failure.
  sessions.account(alice_id)->password_hash =
      std::string(FakeHasher::kOldPrefix) + std::string(kPassword);
  EXPECT_FALSE(login_as("alice", "Wrong-horse-9").is_ok());
  EXPECT_EQ(hasher.calls(), 1);
}

TEST_F(Login, ARehashThatCannotBeHadNowDoesNotFailTheLogin) {
  const std::string old = std::string(FakeHasher::kOldPrefix) + std::string(kPassword);
  sessions.account(alice_id)->password_hash = old;
  hasher.fail_with(unavailable("password hashing queue full"));
  ASSERT_TRUE(login_as("alice", kPassword).is_ok());
  EXPECT_EQ(sessions.started()[0].rehashed_password, std::nullopt);
  EXPECT_EQ(sessions.account(alice_id)->password_hash, old);
}

TEST_F(Login, SignerFailureRollsTheSessionAndTheRehashBack) {
  const std::string old = std::string(FakeHasher::kOldPrefix) + std::string(kPassword);
  sessions.account(alice_id)->password_hash = old;
  signer.fail_with(internal_error("EVP_DigestSign: error:1C800066"));
  Result<SignedIn> r = login_as("alice", kPassword);
  EXPECT_TRUE(refused(r, Code::kInternal, Msg::kInternal));
  EXPECT_EQ(r.status().detail(), "EVP_DigestSign: error:1C800066");
  EXPECT_EQ(sessions.started().size(), 1U);     // it was tried...
  EXPECT_EQ(sessions.live_count(alice_id), 0);  // ...and nothing of it stayed
  EXPECT_EQ(sessions.account(alice_id)->password_hash, old);
}

TEST_F(Login, AStoreThatCannotBeReachedIs503AndGivesTheBudgetsBack) {
  sessions.failures.find_by_username = unavailable("PostgreSQL: could not connect to server");
  Result<SignedIn> r = login_as("alice", kPassword);
  EXPECT_TRUE(refused(r, Code::kUnavailable, Msg::kUnavailable));
  EXPECT_EQ(r.status().message().find("PostgreSQL"), std::string::npos);
  EXPECT_TRUE(hasher.verifications().empty());
  expect_budgets(keys_of("login", "alice"), true);
}

TEST_F(Login, AHasherWithoutASlotIs503AndGivesTheBudgetsBack) {
  hasher.fail_verify_with(unavailable("password hashing queue full"));
  Result<SignedIn> r = login_as("alice", "Wrong-horse-9");
  EXPECT_TRUE(refused(r, Code::kUnavailable, Msg::kUnavailable));
  expect_budgets(keys_of("login", "alice"), true);
  EXPECT_TRUE(sessions.started().empty());
}

TEST_F(Login, FailuresAfterTheCheckAre503WithoutASession) {
  sessions.failures.start = unavailable("PostgreSQL: server closed the connection");
  EXPECT_TRUE(refused(login_as("alice", kPassword), Code::kUnavailable, Msg::kUnavailable));
  sessions.failures.start.reset();
  random.fail_with(unavailable("RAND_bytes failed"));
  EXPECT_TRUE(refused(login_as("alice", kPassword), Code::kUnavailable, Msg::kUnavailable));
  EXPECT_EQ(sessions.started().size(), 1U);  // the random failure stopped before the store
  EXPECT_EQ(sessions.live_count(alice_id), 0);
}

TEST_F(Login, AnUnreachableLimiterIs503BeforeTheLookup) {
  limiter.fail_with(unavailable("Redis: Connection refused"));
  EXPECT_TRUE(refused(login_as("alice", kPassword), Code::kUnavailable, Msg::kUnavailable));
  EXPECT_TRUE(sessions.username_lookups().empty());
  EXPECT_TRUE(hasher.verifications().empty());
}

// --- Refresh -------------------------------------------------------------------------------

class Refresh : public SessionsTest {
 protected:
  void SetUp() override {
    SessionsTest::SetUp();
    session_id = sessions.add_session(alice_id, token);
  }
  Result<TokenPair> refresh_with(const std::string& body) { return refresh(request(body), deps); }
  Result<TokenPair> refresh_token(std::string_view t) { return refresh_with(token_body(t)); }

  const std::string token = std::string(63, '0') + "1";
  std::string session_id;
  RefreshDeps deps{10, sessions, signer, clock, random};
};

TEST_F(Refresh, ATokenThatIsNoStringIs400) {
  for (const char* value : {"42", "null", "[]", "{}", "true"}) {
    EXPECT_TRUE(refused(refresh_with(object({{"refresh_token", value}})), Code::kInvalidArgument,
                        Msg::kRefreshTokenNotString))
        << value;
  }
  EXPECT_TRUE(refused(refresh_with("{}"), Code::kInvalidArgument, Msg::kRefreshTokenNotString));
  EXPECT_TRUE(refused(refresh_with("nope"), Code::kInvalidArgument, Msg::kBodyInvalidJson));
  EXPECT_TRUE(sessions.rotations().empty());
}

TEST_F(Refresh, AStringThatIsNoTokenIs401WithoutTouchingTheStore) {
  for (const std::string& bad : {std::string(), std::string("abc"), std::string(63, 'a'),
                                 std::string(65, 'a'), std::string(64, 'A'), std::string(64, 'g'),
                                 " " + std::string(63, 'a'), token.substr(0, 63) + "\\n"}) {
    EXPECT_TRUE(refused(refresh_token(bad), Code::kUnauthenticated, Msg::kRefreshTokenInvalid))
        << bad;
  }
  EXPECT_TRUE(sessions.rotations().empty());
  EXPECT_EQ(random.calls(), 0);
}

TEST_F(Refresh, AnUnknownTokenIs401) {
  EXPECT_TRUE(
      refused(refresh_token(kUnknownToken), Code::kUnauthenticated, Msg::kRefreshTokenInvalid));
  EXPECT_EQ(sessions.rotations().size(), 1U);
  EXPECT_TRUE(signer.signed_claims().empty());
}

TEST_F(Refresh, ALiveTokenIsSpentForANewPairOfTheSameSession) {
  clock.advance(3600);
  Result<TokenPair> r = refresh_token(token);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_TRUE(is_refresh_token(r->refresh_token)) << r->refresh_token;
  EXPECT_NE(r->refresh_token, token);
  EXPECT_FALSE(sessions.token_usable(token));
  EXPECT_TRUE(sessions.token_usable(r->refresh_token));
  ASSERT_EQ(sessions.rotations().size(), 1U);
  EXPECT_EQ(sessions.rotations()[0].next_token, r->refresh_token);
  EXPECT_EQ(sessions.rotations()[0].grace_seconds, 10);
  EXPECT_EQ(sessions.rotations()[0].request_id, kRequestId);
  // The session's 30 days start again.
  EXPECT_EQ(sessions.session(session_id)->expires, clock.now_seconds() + kSessionDays * 86400);

  EXPECT_EQ(r->access_token, "token-for-" + alice_id);
  ASSERT_EQ(signer.signed_claims().size(), 1U);
  const AccessClaims& claims = signer.signed_claims()[0];
  EXPECT_EQ(claims.sub, alice_id);
  EXPECT_EQ(claims.sid, session_id);
  EXPECT_EQ(claims.username, "alice");
  EXPECT_EQ(claims.iat, clock.now_seconds());
  EXPECT_EQ(claims.exp, claims.iat + kAccessTokenSeconds);
  // The chain goes on.
  Result<TokenPair> next = refresh_token(r->refresh_token);
  ASSERT_TRUE(next.is_ok()) << next.status().message();
  EXPECT_EQ(signer.signed_claims()[1].sid, session_id);
}

TEST_F(Refresh, TheAccessTokenCarriesTheDatabasesRolesNow) {
  sessions.account(alice_id)->is_admin = true;  // promoted since the login
  Result<TokenPair> r = refresh_token(token);
  ASSERT_TRUE(r.is_ok());
  EXPECT_TRUE(signer.signed_claims()[0].is_admin);
  sessions.account(alice_id)->is_admin = false;  // and demoted again
  ASSERT_TRUE(refresh_token(r->refresh_token).is_ok());
  EXPECT_FALSE(signer.signed_claims()[1].is_admin);
  EXPECT_FALSE(signer.signed_claims()[1].is_owner);
}

TEST_F(Refresh, ALateTwinWithinTheGraceFailsAloneAndTheSessionLives) {
  Result<TokenPair> first = refresh_token(token);
  ASSERT_TRUE(first.is_ok());
  clock.advance(10);
  EXPECT_TRUE(refused(refresh_token(token), Code::kUnauthenticated, Msg::kRefreshTokenInvalid));
  EXPECT_TRUE(sessions.token_usable(first->refresh_token));
  EXPECT_TRUE(refresh_token(first->refresh_token).is_ok());
}

TEST_F(Refresh, ASpentTokenPresentedAfterTheGraceEndsItsSession) {
  Result<TokenPair> first = refresh_token(token);
  ASSERT_TRUE(first.is_ok());
  clock.advance(11);
  EXPECT_TRUE(refused(refresh_token(token), Code::kUnauthenticated, Msg::kRefreshTokenInvalid));
  // The thief's successor, or the owner's, no longer works: the session is over.
  EXPECT_EQ(sessions.live_count(alice_id), 0);
  EXPECT_TRUE(refused(refresh_token(first->refresh_token), Code::kUnauthenticated,
                      Msg::kRefreshTokenInvalid));
  EXPECT_EQ(signer.signed_claims().size(), 1U);
}

TEST_F(Refresh, TheGraceIsTheConfiguredOne) {
  deps.grace_seconds = 0;
  ASSERT_TRUE(refresh_token(token).is_ok());
  clock.advance(1);
  EXPECT_FALSE(refresh_token(token).is_ok());
  EXPECT_EQ(sessions.rotations().back().grace_seconds, 0);
  EXPECT_EQ(sessions.live_count(alice_id), 0);
}

TEST_F(Refresh, DeadSessionsAre401) {
  // Ended by a logout.
  ASSERT_TRUE(logout(request(token_body(token)), sessions).is_ok());
  EXPECT_TRUE(refused(refresh_token(token), Code::kUnauthenticated, Msg::kRefreshTokenInvalid));
  // Expired: 30 days after the last refresh.
  const std::string other = std::string(63, '0') + "2";
  sessions.add_session(alice_id, other);
  clock.advance(kSessionDays * 86400);
  EXPECT_TRUE(refused(refresh_token(other), Code::kUnauthenticated, Msg::kRefreshTokenInvalid));
  // The account suspended.
  const std::string third = std::string(63, '0') + "3";
  sessions.add_session(alice_id, third);
  sessions.account(alice_id)->suspended_at = "2025-07-15T00:00:00Z";
  EXPECT_TRUE(refused(refresh_token(third), Code::kUnauthenticated, Msg::kRefreshTokenInvalid));
  EXPECT_TRUE(signer.signed_claims().empty());
}

TEST_F(Refresh, ASignerFailureLeavesTheTokenUnspent) {
  signer.fail_with(internal_error("EVP_DigestSign failed"));
  EXPECT_TRUE(refused(refresh_token(token), Code::kInternal, Msg::kInternal));
  EXPECT_TRUE(sessions.token_usable(token));
  FakeSigner working;
  RefreshDeps again{10, sessions, working, clock, random};
  EXPECT_TRUE(refresh(request(token_body(token)), again).is_ok());
}

TEST_F(Refresh, DependencyFailuresAre503) {
  random.fail_with(unavailable("RAND_bytes failed"));
  EXPECT_TRUE(refused(refresh_token(token), Code::kUnavailable, Msg::kUnavailable));
  EXPECT_TRUE(sessions.rotations().empty());
  FakeRandom working;
  RefreshDeps with_random{10, sessions, signer, clock, working};
  sessions.failures.rotate = unavailable("PostgreSQL: could not serialize access");
  Result<TokenPair> r = refresh(request(token_body(token)), with_random);
  EXPECT_TRUE(refused(r, Code::kUnavailable, Msg::kUnavailable));
  EXPECT_EQ(r.status().detail(), "PostgreSQL: could not serialize access");
}

// --- Logout --------------------------------------------------------------------------------

class Logout : public SessionsTest {
 protected:
  Status logout_with(const std::string& body) { return logout(request(body), sessions); }
  const std::string token = std::string(63, '0') + "1";
};

TEST_F(Logout, EndsTheTokensSessionAndIsIdempotent) {
  const std::string kept = std::string(63, '0') + "2";
  sessions.add_session(alice_id, token);
  sessions.add_session(alice_id, kept);
  EXPECT_TRUE(logout_with(token_body(token)).is_ok());
  EXPECT_FALSE(sessions.token_usable(token));
  EXPECT_TRUE(sessions.token_usable(kept));  // the other device stays signed in
  EXPECT_TRUE(logout_with(token_body(token)).is_ok());
  EXPECT_TRUE(logout_with(token_body(kUnknownToken)).is_ok());
  ASSERT_EQ(sessions.ended_by_token().size(), 3U);
  EXPECT_EQ(sessions.ended_by_token()[0].value, token);
  EXPECT_EQ(sessions.ended_by_token()[0].request_id, kRequestId);
}

TEST_F(Logout, AStringThatIsNoTokenIs200WithoutAStoreCall) {
  for (const std::string& s : {std::string(), std::string("junk"), std::string(64, 'Z')}) {
    EXPECT_TRUE(logout_with(token_body(s)).is_ok()) << s;
  }
  EXPECT_TRUE(sessions.ended_by_token().empty());
}

TEST_F(Logout, ATokenThatIsNoStringIs400) {
  EXPECT_TRUE(refused(logout_with(object({{"refresh_token", "1"}})), Code::kInvalidArgument,
                      Msg::kRefreshTokenNotString));
  EXPECT_TRUE(refused(logout_with("{}"), Code::kInvalidArgument, Msg::kRefreshTokenNotString));
  EXPECT_TRUE(refused(logout_with("{"), Code::kInvalidArgument, Msg::kBodyInvalidJson));
}

TEST_F(Logout, AStoreFailureIs503) {
  sessions.failures.end_by_token = unavailable("PostgreSQL: timeout");
  EXPECT_TRUE(refused(logout_with(token_body(token)), Code::kUnavailable, Msg::kUnavailable));
}

// --- Recovery ------------------------------------------------------------------------------

class Recover : public SessionsTest {
 protected:
  Result<std::string> recover_with(const std::string& body, std::string_view addr = kAddress) {
    return recover(request(body, addr), deps);
  }
  Result<std::string> recover_as(std::string_view username, std::string_view code,
                                 std::string_view password = kNewPassword) {
    return recover_with(recover_body(username, code, password));
  }

  RecoverDeps deps{kLimits, sessions, limiter, hasher, random};
};

TEST_F(Recover, TheBodysTypesAndTheNewPasswordsRulesComeFirst) {
  const std::string code = json_string(kRecoveryCode);
  const std::string password = json_string(kNewPassword);
  EXPECT_TRUE(refused(recover_with(object({{"recovery_code", code}, {"new_password", password}})),
                      Code::kInvalidArgument, Msg::kUsernameNotString));
  EXPECT_TRUE(refused(recover_with(object({{"username", json_string("alice")},
                                           {"recovery_code", "1"},
                                           {"new_password", password}})),
                      Code::kInvalidArgument, Msg::kRecoveryCodeNotString));
  EXPECT_TRUE(refused(
      recover_with(object(
          {{"username", json_string("alice")}, {"recovery_code", code}, {"new_password", "null"}})),
      Code::kInvalidArgument, Msg::kNewPasswordNotString));
  // The registration's rules and messages.
  const std::pair<std::string_view, Message> rules[] = {
      {"Sh0rt!", Msg::kPasswordTooShort},       {"no-upper-case-1", Msg::kPasswordUpper},
      {"NO-LOWER-CASE-1", Msg::kPasswordLower}, {"No-digits-at-all", Msg::kPasswordDigit},
      {"NoSpecials123", Msg::kPasswordSpecial},
  };
  for (const auto& [weak, message] : rules) {
    EXPECT_TRUE(refused(recover_as("alice", kRecoveryCode, weak), Code::kInvalidArgument, message))
        << weak;
  }
  EXPECT_TRUE(refused(recover_as("alice", kRecoveryCode, "A1-" + std::string(126, 'a')),
                      Code::kInvalidArgument, Msg::kPasswordTooLong));
  EXPECT_TRUE(limiter.calls().empty());
  EXPECT_EQ(hasher.calls(), 0);
  EXPECT_TRUE(sessions.recoveries().empty());
}

TEST_F(Recover, EachBudgetRefusesEvenTheRightCode) {
  const Keys keys = keys_of("recover", "alice");
  const std::pair<const std::string*, const RateLimit*> budgets[] = {
      {&keys.address, &kLimits.per_address},
      {&keys.account_address, &kLimits.per_account_address},
      {&keys.account, &kLimits.per_account}};
  for (const auto& [key, limit] : budgets) {
    SCOPED_TRACE(*key);
    FakeLimiter fresh{clock};
    RecoverDeps limited{kLimits, sessions, fresh, hasher, random};
    fresh.exhaust(*key, *limit);
    EXPECT_TRUE(
        refused(recover(request(recover_body("alice", kRecoveryCode, kNewPassword)), limited),
                Code::kResourceExhausted, Msg::kRateLimited));
  }
  EXPECT_EQ(hasher.calls(), 0);
  EXPECT_TRUE(sessions.recoveries().empty());
  EXPECT_EQ(sessions.recovery_code(alice_id), kRecoveryCode);
}

TEST_F(Recover, UnknownUserOrWrongCodeIsOne400AfterTheSameWork) {
  EXPECT_TRUE(
      refused(recover_as("mallory", kRecoveryCode), Code::kInvalidArgument, Msg::kRecoveryInvalid));
  EXPECT_EQ(hasher.calls(), 1);
  EXPECT_TRUE(refused(recover_as("alice", "ZZZZ-ZZZZ-ZZZZ-ZZZZ"), Code::kInvalidArgument,
                      Msg::kRecoveryInvalid));
  EXPECT_EQ(hasher.calls(), 2);
  // Neither a name that is no username nor a code of the wrong shape reaches the store, but
  // both cost the same hash.
  EXPECT_TRUE(
      refused(recover_as("a", kRecoveryCode), Code::kInvalidArgument, Msg::kRecoveryInvalid));
  EXPECT_TRUE(
      refused(recover_as("alice", "not-a-code"), Code::kInvalidArgument, Msg::kRecoveryInvalid));
  EXPECT_EQ(hasher.calls(), 4);
  EXPECT_EQ(sessions.recoveries().size(), 2U);
  // Failures keep their budgets.
  EXPECT_EQ(limiter.count(keys_of("recover", "alice").account, LimitMode::kRefund), 0);
  EXPECT_EQ(FakeHasher::hashed(kPassword), sessions.account(alice_id)->password_hash);
}

TEST_F(Recover, RepeatedWrongCodesAreLimited) {
  int failures = 0;
  for (; failures < 31; ++failures) {
    Result<std::string> r = recover_as("alice", "ZZZZ-ZZZZ-ZZZZ-ZZZZ");
    if (!r.is_ok() && r.status().code() == Code::kResourceExhausted) break;
  }
  EXPECT_EQ(failures, 10);
  EXPECT_TRUE(
      refused(recover_as("alice", kRecoveryCode), Code::kResourceExhausted, Msg::kRateLimited));
}

TEST_F(Recover, TheCodeIsNormalisedAsTheUserMayTypeIt) {
  Result<std::string> r = recover_as("Alice", " wxyz wxyz-2345\\t2345 ");
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_EQ(sessions.recoveries().size(), 1U);
  EXPECT_EQ(sessions.recoveries()[0].recovery_code, kRecoveryCode);
}

TEST_F(Recover, SuccessSetsThePasswordReplacesTheCodeAndEndsEverySession) {
  sessions.add_session(alice_id, std::string(64, '1'));
  sessions.add_session(alice_id, std::string(64, '2'));
  Result<std::string> r = recover_as("alice", kRecoveryCode);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  // A new code, shown once, of the registration's form.
  EXPECT_EQ(r->size(), 19U);
  EXPECT_EQ(normalize_recovery_code(*r), *r);
  EXPECT_NE(*r, kRecoveryCode);
  ASSERT_EQ(sessions.recoveries().size(), 1U);
  const FakeSessionStore::RecoverCall& call = sessions.recoveries()[0];
  EXPECT_EQ(call.new_recovery_code, *r);
  EXPECT_EQ(call.password_hash, FakeHasher::hashed(kNewPassword));
  EXPECT_EQ(call.request_id, kRequestId);
  EXPECT_EQ(sessions.account(alice_id)->password_hash, FakeHasher::hashed(kNewPassword));
  EXPECT_EQ(sessions.live_count(alice_id), 0);
  expect_budgets(keys_of("recover", "alice"), true);
  // The old code is spent, the new one works.
  EXPECT_TRUE(
      refused(recover_as("alice", kRecoveryCode), Code::kInvalidArgument, Msg::kRecoveryInvalid));
  EXPECT_TRUE(recover_as("alice", *r, "Third-password-3").is_ok());
}

TEST_F(Recover, ASuspendedAccountIs403OnlyWithTheRightCode) {
  sessions.account(alice_id)->suspended_at = "2025-06-15T15:00:00Z";
  EXPECT_TRUE(refused(recover_as("alice", "ZZZZ-ZZZZ-ZZZZ-ZZZZ"), Code::kInvalidArgument,
                      Msg::kRecoveryInvalid));
  EXPECT_TRUE(
      refused(recover_as("alice", kRecoveryCode), Code::kPermissionDenied, Msg::kAccountSuspended));
  EXPECT_EQ(sessions.recovery_code(alice_id), kRecoveryCode);
  EXPECT_EQ(sessions.account(alice_id)->password_hash, FakeHasher::hashed(kPassword));
}

TEST_F(Recover, DependencyFailuresAre503AndGiveTheBudgetsBack) {
  hasher.fail_with(unavailable("password hashing queue full"));
  EXPECT_TRUE(refused(recover_as("alice", kRecoveryCode), Code::kUnavailable, Msg::kUnavailable));
  EXPECT_TRUE(sessions.recoveries().empty());
  expect_budgets(keys_of("recover", "alice"), true);

  FakeHasher working;
  FakeLimiter fresh{clock};
  RecoverDeps again{kLimits, sessions, fresh, working, random};
  sessions.failures.recover = unavailable("PostgreSQL: could not connect");
  EXPECT_TRUE(refused(recover(request(recover_body("alice", kRecoveryCode, kNewPassword)), again),
                      Code::kUnavailable, Msg::kUnavailable));
  EXPECT_EQ(fresh.count(keys_of("recover", "alice").account, LimitMode::kRefund), 1);

  sessions.failures.recover.reset();
  random.fail_with(unavailable("RAND_bytes failed"));
  EXPECT_TRUE(refused(recover(request(recover_body("alice", kRecoveryCode, kNewPassword)), again),
                      Code::kUnavailable, Msg::kUnavailable));
  EXPECT_EQ(sessions.recoveries().size(), 1U);  // the failing source stopped it before the store
  EXPECT_EQ(sessions.recovery_code(alice_id), kRecoveryCode);
}

// --- claims_for ----------------------------------------------------------------------------

TEST(ClaimsFor, AreTheSubjectsForTheLifetime) {
  const AccessClaims c = claims_for({"u1", "alice", false, true, "s1"}, "j1", 1000, 900);
  EXPECT_EQ(c.sub, "u1");
  EXPECT_EQ(c.username, "alice");
  EXPECT_TRUE(c.is_owner);
  EXPECT_TRUE(c.is_admin);  // the owner is always an admin
  EXPECT_EQ(c.sid, "s1");
  EXPECT_EQ(c.jti, "j1");
  EXPECT_EQ(c.iat, 1000);
  EXPECT_EQ(c.exp, 1900);
  EXPECT_EQ(c.aud, "chatalot");
  EXPECT_FALSE(claims_for({"u2", "bob", false, false, ""}, "j2", 0, 900).is_admin);
  EXPECT_EQ(claims_for({"u2", "bob", false, false, ""}, "j2", 0, 60).exp, 60);
}

// --- device_name ---------------------------------------------------------------------------

TEST(DeviceName, NamesTheCommonBrowsersAndSystems) {
  const std::pair<std::string_view, std::string_view> cases[] = {
      {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/126.0.0.0 Safari/537.36",
       "Chrome on Windows"},
      {"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
       "Firefox on Linux"},
      {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
       "Version/17.5 Safari/605.1.15",
       "Safari on macOS"},
      {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87",
       "Edge on Windows"},
      {"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/126.0.6478.122 Mobile Safari/537.36",
       "Chrome on Android"},
      {"Mozilla/5.0 (Android 14; Mobile; rv:127.0) Gecko/127.0 Firefox/127.0",
       "Firefox on Android"},
      {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
       "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
       "Safari on iOS"},
      {"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
       "Version/17.5 Mobile/15E148 Safari/604.1",
       "Safari on iOS"},
      // Chrome, Firefox and Edge on iOS are WebKit underneath, and say Safari too.
      {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
       "Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1",
       "Chrome on iOS"},
      {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
       "Gecko) FxiOS/127.0 Mobile/15E148 Safari/605.1.15",
       "Firefox on iOS"},
      {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
       "Gecko) Version/17.0 EdgiOS/126.2592.86 Mobile/15E148 Safari/605.1.15",
       "Edge on iOS"},
      {"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/126.0.0.0 Mobile Safari/537.36 EdgA/126.0.2592.80",
       "Edge on Android"},
      {"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/126.0.0.0 Safari/537.36",
       "Chrome on ChromeOS"},
      {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0",
       "Opera on Windows"},
  };
  for (const auto& [user_agent, name] : cases) {
    EXPECT_EQ(device_name(user_agent), name) << user_agent;
  }
}

TEST(DeviceName, AnythingElseIsItsFirstProduct) {
  EXPECT_EQ(device_name("curl/8.5.0"), "curl/8.5.0");
  EXPECT_EQ(device_name("python-requests/2.31.0 CPython/3.12"), "python-requests/2.31.0");
  EXPECT_EQ(device_name("  okhttp/4.12.0  "), "okhttp/4.12.0");
}

TEST(DeviceName, EmptyIsNone) {
  EXPECT_EQ(device_name(""), std::nullopt);
  EXPECT_EQ(device_name("   \t "), std::nullopt);
}

// Shown in the session list: nothing that garbles a terminal or disguises the text, and short.
TEST(DeviceName, HostileHeadersBecomeShortPrintableText) {
  const std::string hostile[] = {
      std::string("evil\x1b[2J\x07tool/1.0"),
      std::string("\xe2\x80\xae") + "1.0/loot",  // U+202E RIGHT-TO-LEFT OVERRIDE
      std::string("bad\xff\xfe\x80utf8/1"),     std::string(100000, 'A'),
      std::string("nul\0inside/1", 12),         "Firefox/1.0 " + std::string(100000, 'x'),
  };
  for (const std::string& user_agent : hostile) {
    const std::optional<std::string> name = device_name(user_agent);
    ASSERT_TRUE(name.has_value()) << user_agent.substr(0, 40);
    EXPECT_FALSE(name->empty());
    EXPECT_LE(name->size(), 64U) << *name;
    for (const char c : *name) {
      EXPECT_TRUE(c >= 0x20 && c < 0x7F)
          << "byte " << static_cast<int>(static_cast<unsigned char>(c)) << " in " << *name;
    }
  }
  EXPECT_EQ(device_name(std::string("evil\x1b[2J\x07tool/1.0")), "evil[2Jtool/1.0");
  EXPECT_EQ(device_name("Firefox/1.0 " + std::string(100000, 'x')), "Firefox");
  // Nothing printable at all is no name.
  EXPECT_EQ(device_name(std::string("\x01\x02\x7f")), std::nullopt);
  EXPECT_EQ(device_name(std::string("\xe2\x80\xae\xe2\x80\xad")), std::nullopt);
}

}  // namespace
}  // namespace chatalot
