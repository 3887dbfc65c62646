// register_account() over the fakes of fakes.h: the contract's order of checks (SPEC section 3),
// what each refusal tells the client, what each one spends (rate budgets, the hash, an invite
// use), and that a dependency's failure reaches the client as its code and generic message only.
#include "core/registration.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/limits.h"
#include "core/text.h"
#include "fakes.h"

namespace chatalot {
namespace {

using testing::FakeAccountStore;
using testing::FakeClock;
using testing::FakeHasher;
using testing::FakeInviteStore;
using testing::FakeKeyChecks;
using testing::FakeLimiter;
using testing::FakeRandom;
using testing::FakeSigner;
using testing::invite_spec;

// README's defaults, but for the registration burst: large enough that only the tests about
// that budget meet it, while a limited address still waits one interval (20 s).
constexpr RateLimit kRegisterLimit{0.05, 1000};
constexpr RateLimit kInviteLimit{0.1, 5};
constexpr RateLimit kInviteNetworkLimit{0.5, 25};

constexpr std::string_view kAddress = "203.0.113.7";
constexpr std::string_view kRequestId = "req-1";
constexpr std::string_view kInviteCode = "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2345";
constexpr std::string_view kUnknownCode = "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ";
constexpr std::string_view kPassword = "Correct-horse-9";
constexpr std::string_view kUserAgent =
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

using testing::invite_key;
using testing::network_budget_key;
using testing::kFailuresCounter;

std::string json_string(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string byte_array(std::size_t n, int value) {
  std::string out = "[";
  for (std::size_t i = 0; i < n; ++i) out += (i ? "," : "") + std::to_string(value);
  return out + "]";
}

std::string prekey(int id) {
  return R"({"key_id":)" + std::to_string(id) + R"(,"public_key":)" + byte_array(32, id) + "}";
}

// A registration body; each field is raw JSON, so a test can send a wrong type. The defaults
// make a valid invite-only registration.
class Body {
 public:
  Body& set(const std::string& name, std::string json) {
    drop(name);
    fields_.emplace_back(name, std::move(json));
    return *this;
  }
  Body& drop(const std::string& name) {
    std::erase_if(fields_, [&](const auto& field) { return field.first == name; });
    return *this;
  }
  std::string json() const {
    std::string out = "{";
    for (const auto& [name, value] : fields_) {
      out += (out.size() > 1 ? "," : "") + json_string(name) + ":" + value;
    }
    return out + "}";
  }

 private:
  std::vector<std::pair<std::string, std::string>> fields_ = {
      {"invite_code", json_string(kInviteCode)},
      {"username", R"("alice")"},
      {"email", R"("alice@example.com")"},
      {"password", json_string(kPassword)},
      {"identity_key", byte_array(32, 9)},
      {"signed_prekey", R"({"key_id":7,"public_key":)" + byte_array(32, 8) + R"(,"signature":)" +
                            byte_array(64, 6) + "}"},
      {"one_time_prekeys", "[" + prekey(1) + "," + prekey(2) + "]"},
  };
};

::testing::AssertionResult refused(const Result<Registered>& r, Code code, Message message) {
  if (r.is_ok()) return ::testing::AssertionFailure() << "registered " << r->username;
  if (r.status().code() != code || r.status().message() != message.text()) {
    return ::testing::AssertionFailure()
           << "code " << static_cast<int>(r.status().code()) << " message \""
           << r.status().message() << "\", wanted code " << static_cast<int>(code) << " \""
           << message.text() << "\"";
  }
  return ::testing::AssertionSuccess();
}

class RegisterAccount : public ::testing::Test {
 protected:
  void SetUp() override { invites.add(kInviteCode, invite_spec(5)); }

  Result<Registered> register_with(const std::string& body, std::string_view addr = kAddress) {
    return register_account({body, addr, kRequestId, kUserAgent}, deps);
  }
  Result<Registered> register_with(const Body& body) { return register_with(body.json()); }

  // What a refusal before the hash must not have spent.
  void expect_nothing_hashed_or_stored() {
    EXPECT_EQ(hasher.calls(), 0);
    EXPECT_EQ(random.calls(), 0);
    EXPECT_EQ(accounts.create_calls(), 0);
    EXPECT_TRUE(accounts.users().empty());
    EXPECT_EQ(invites.find(kInviteCode)->used_count, 0);
  }
  // A refusal of the body's own checks: no I/O at all past the registration budget.
  void expect_refused_without_io() {
    expect_nothing_hashed_or_stored();
    EXPECT_EQ(accounts.taken_calls(), 0);
    EXPECT_TRUE(invites.lookups().empty());
    // The registration attempts only.
    EXPECT_EQ(limiter.count(registration_key(kAddress), LimitMode::kTake),
              static_cast<int>(limiter.calls().size()));
  }
  int invite_uses() const { return static_cast<int>(invites.find(kInviteCode)->used_count); }

  RegistrationPolicy policy{RegistrationMode::kInviteOnly, kRegisterLimit, kInviteLimit,
                            kInviteNetworkLimit};
  FakeClock clock;
  FakeLimiter limiter{clock};
  FakeInviteStore invites{clock};
  FakeAccountStore accounts{invites};
  FakeHasher hasher;
  FakeSigner signer;
  FakeKeyChecks keys;
  FakeRandom random;
  RegistrationDeps deps{policy, accounts, invites, limiter, hasher, signer, keys, clock, random};
};

// --- The per-address limit, first ----------------------------------------------------------

TEST_F(RegisterAccount, LimitedAddressGets429BeforeTheBodyIsParsed) {
  limiter.exhaust(registration_key(kAddress), kRegisterLimit);
  Result<Registered> r = register_with("this is not JSON");
  EXPECT_TRUE(refused(r, Code::kResourceExhausted, Msg::kRateLimited));
  EXPECT_EQ(r.status().retry_after(), 20);  // one emission interval at 0.05/s
  expect_refused_without_io();
  // Another address has its own budget.
  EXPECT_TRUE(refused(register_with("this is not JSON", "198.51.100.1"), Code::kInvalidArgument,
                      Msg::kBodyInvalidJson));
}

// One subscriber usually holds a whole IPv6 /64, and an IPv4-mapped address is its IPv4 one.
TEST_F(RegisterAccount, RegistrationBudgetIsPerClientNotPerTextualAddress) {
  limiter.exhaust(registration_key("2001:db8:1:2::1"), kRegisterLimit);
  EXPECT_TRUE(refused(register_with("{}", "2001:db8:1:2:ffff::9"), Code::kResourceExhausted,
                      Msg::kRateLimited));
  EXPECT_TRUE(refused(register_with("{}", "2001:db8:1:3::1"), Code::kInvalidArgument,
                      Msg::kInviteRequired));  // the next /64 is someone else
  limiter.exhaust(registration_key(kAddress), kRegisterLimit);
  EXPECT_TRUE(refused(register_with("{}", "::ffff:203.0.113.7"), Code::kResourceExhausted,
                      Msg::kRateLimited));
}

TEST_F(RegisterAccount, EveryAttemptSpendsTheRegistrationBudget) {
  policy.register_limit = {0.05, 5};           // README's default burst
  ASSERT_TRUE(register_with(Body()).is_ok());  // a success counts too
  for (int i = 0; i < 4; ++i) {
    EXPECT_TRUE(refused(register_with("{"), Code::kInvalidArgument, Msg::kBodyInvalidJson));
  }
  EXPECT_TRUE(refused(register_with("{"), Code::kResourceExhausted, Msg::kRateLimited));
  EXPECT_EQ(limiter.count(registration_key(kAddress), LimitMode::kTake), 6);
  EXPECT_EQ(limiter.count(registration_key(kAddress), LimitMode::kRefund), 0);
  clock.advance(20);  // one interval later, one more attempt
  EXPECT_TRUE(refused(register_with("{"), Code::kInvalidArgument, Msg::kBodyInvalidJson));
}

TEST_F(RegisterAccount, UnreachableLimiterIs503WithTheLibraryTextInTheDetailOnly) {
  limiter.fail_with(unavailable("Redis: Connection refused (111)"));
  Result<Registered> r = register_with(Body());
  EXPECT_TRUE(refused(r, Code::kUnavailable, Msg::kUnavailable));
  EXPECT_EQ(r.status().detail(), "Redis: Connection refused (111)");
  EXPECT_EQ(r.status().message().find("Redis"), std::string::npos);
  expect_nothing_hashed_or_stored();
}

// --- The body's checks, in the contract's order -----------------------------------------------

TEST_F(RegisterAccount, MalformedJsonIsRefusedAfterTheLimit) {
  EXPECT_TRUE(
      refused(register_with(R"({"username":)"), Code::kInvalidArgument, Msg::kBodyInvalidJson));
  EXPECT_TRUE(refused(register_with(R"(["alice"])"), Code::kInvalidArgument, Msg::kBodyNotObject));
  EXPECT_TRUE(refused(register_with("{\"username\":\"\xff\"}"), Code::kInvalidArgument,
                      Msg::kBodyInvalidUtf8));
  EXPECT_EQ(hasher.calls(), 0);
  EXPECT_EQ(accounts.taken_calls(), 0);
}

TEST_F(RegisterAccount, ClosedModeRefusesEveryParsableBody) {
  policy.mode = RegistrationMode::kClosed;
  EXPECT_TRUE(refused(register_with(Body()), Code::kInvalidArgument, Msg::kRegistrationClosed));
  EXPECT_TRUE(refused(register_with(Body().set("username", "7")), Code::kInvalidArgument,
                      Msg::kRegistrationClosed));
  EXPECT_TRUE(refused(register_with("{}"), Code::kInvalidArgument, Msg::kRegistrationClosed));
  // JSON is parsed before the mode is looked at (unlike check_invite, see invites_test.cc).
  EXPECT_TRUE(refused(register_with("{"), Code::kInvalidArgument, Msg::kBodyInvalidJson));
  EXPECT_EQ(accounts.taken_calls(), 0);
  EXPECT_FALSE(limiter.touched("chatalot:rl:invite"));
  expect_nothing_hashed_or_stored();
}

TEST_F(RegisterAccount, InviteOnlyWantsACodeBeforeAnyOtherField) {
  EXPECT_TRUE(refused(register_with(Body().drop("invite_code")), Code::kInvalidArgument,
                      Msg::kInviteRequired));
  for (const char* code : {"null", R"("")", R"("  \t ")"}) {
    EXPECT_TRUE(refused(register_with(Body().set("invite_code", code)), Code::kInvalidArgument,
                        Msg::kInviteRequired))
        << code;
  }
  EXPECT_TRUE(refused(register_with(Body().set("invite_code", "42")), Code::kInvalidArgument,
                      Msg::kInviteCodeNotString));
  EXPECT_TRUE(refused(register_with(Body().set("invite_code", R"("AB\u0000CD")")),
                      Code::kInvalidArgument, Msg::kInviteCodeNul));
  // The invite comes before the username.
  EXPECT_TRUE(refused(register_with(Body().drop("invite_code").set("username", R"("a")")),
                      Code::kInvalidArgument, Msg::kInviteRequired));
  expect_refused_without_io();
}

TEST_F(RegisterAccount, UsernameIsCheckedBeforeEmail) {
  EXPECT_TRUE(refused(register_with(Body().set("username", R"("ab")").set("email", R"("nope")")),
                      Code::kInvalidArgument, Msg::kUsernameLength));
  EXPECT_TRUE(refused(register_with(Body().set("username", "7").set("email", "7")),
                      Code::kInvalidArgument, Msg::kUsernameNotString));
  EXPECT_TRUE(refused(register_with(Body().set("username", R"(".alice")")), Code::kInvalidArgument,
                      Msg::kUsernameStart));
  expect_refused_without_io();
}

TEST_F(RegisterAccount, EmailIsCheckedBeforePassword) {
  EXPECT_TRUE(
      refused(register_with(Body().set("email", R"("alice@")").set("password", R"("short")")),
              Code::kInvalidArgument, Msg::kEmailInvalid));
  EXPECT_TRUE(
      refused(register_with(Body().drop("email")), Code::kInvalidArgument, Msg::kEmailNotString));
  expect_refused_without_io();
}

TEST_F(RegisterAccount, PasswordIsCheckedBeforeDisplayNameAndKeys) {
  EXPECT_TRUE(refused(register_with(Body()
                                        .set("password", R"("horse-battery-9")")
                                        .set("display_name", "5")
                                        .set("identity_key", "[]")),
                      Code::kInvalidArgument, Msg::kPasswordUpper));
  EXPECT_TRUE(refused(register_with(Body().set("password", R"("Sh0rt!")")), Code::kInvalidArgument,
                      Msg::kPasswordTooShort));
  expect_refused_without_io();
}

TEST_F(RegisterAccount, DisplayNameIsCheckedBeforeKeys) {
  EXPECT_TRUE(refused(register_with(Body().set("display_name", "5").drop("identity_key")),
                      Code::kInvalidArgument, Msg::kDisplayNameNotString));
  EXPECT_TRUE(refused(register_with(Body().set("display_name", json_string(std::string(65, 'x')))),
                      Code::kInvalidArgument, Msg::kDisplayNameLength));
  expect_refused_without_io();
}

TEST_F(RegisterAccount, KeysAreCheckedInTheContractsOrder) {
  EXPECT_TRUE(
      refused(register_with(Body().set("identity_key", byte_array(31, 1)).drop("signed_prekey")),
              Code::kInvalidArgument, Msg::kIdentityKeySize));
  EXPECT_TRUE(refused(register_with(Body().set("signed_prekey", "[]")), Code::kInvalidArgument,
                      Msg::kSignedPrekeyNotObject));
  EXPECT_TRUE(refused(register_with(Body().set("one_time_prekeys", R"("many")")),
                      Code::kInvalidArgument, Msg::kPrekeysNotArray));
  EXPECT_TRUE(refused(
      register_with(Body().set("one_time_prekeys", "[" + prekey(3) + "," + prekey(3) + "]")),
      Code::kInvalidArgument, Msg::kPrekeyDuplicate));
  // FakeKeyChecks decides what the Ed25519 checks answer: the identity key, then the signature,
  // then the one-time prekeys.
  keys.signature_valid = false;
  EXPECT_TRUE(refused(register_with(Body().set("one_time_prekeys", "7")), Code::kInvalidArgument,
                      Msg::kSignatureInvalid));
  keys.identity_key_valid = false;
  EXPECT_TRUE(refused(register_with(Body().set("one_time_prekeys", "7")), Code::kInvalidArgument,
                      Msg::kIdentityKeyInvalid));
  expect_refused_without_io();
}

// --- The read-only look: the invite (in invite_only mode), then uniqueness --------------------

TEST_F(RegisterAccount, TakenUsernameIs409BeforeTakenEmailIgnoringCase) {
  accounts.add("Alice", "alice@example.com");
  EXPECT_TRUE(refused(
      register_with(Body().set("username", R"("ALICE")").set("email", R"("Alice@Example.com")")),
      Code::kAlreadyExists, Msg::kUsernameTaken));
  EXPECT_TRUE(refused(
      register_with(Body().set("username", R"("bob")").set("email", R"("ALICE@example.COM")")),
      Code::kAlreadyExists, Msg::kEmailTaken));
  EXPECT_EQ(accounts.users().size(), 1U);
  EXPECT_EQ(hasher.calls(), 0);
}

// SPEC section 3, steps 7 and 8: without a usable invite nobody learns which usernames or
// e-mail addresses exist; the answer is the invite's, and uniqueness is not even asked.
TEST_F(RegisterAccount, TheInviteIsCheckedBeforeUniqueness) {
  accounts.add("alice", "alice@example.com");
  EXPECT_TRUE(refused(register_with(Body().set("invite_code", json_string(kUnknownCode))),
                      Code::kInvalidArgument, Msg::kInviteInvalid));
  EXPECT_EQ(accounts.taken_calls(), 0);
  // With a usable invite the taken username is reported, and the invite is not spent.
  EXPECT_TRUE(refused(register_with(Body()), Code::kAlreadyExists, Msg::kUsernameTaken));
  EXPECT_EQ(invite_uses(), 0);
}

TEST_F(RegisterAccount, FailingUniquenessLookupIs503AfterTheInviteWasGivenBack) {
  accounts.failures.taken = unavailable("PostgreSQL: server closed the connection unexpectedly");
  Result<Registered> r = register_with(Body());
  EXPECT_TRUE(refused(r, Code::kUnavailable, Msg::kUnavailable));
  EXPECT_NE(r.status().detail().find("server closed the connection"), std::string::npos);
  EXPECT_EQ(r.status().message().find("PostgreSQL"), std::string::npos);
  // The valid invite gave its attempt back before uniqueness was asked.
  EXPECT_EQ(limiter.count(invite_key(kAddress), LimitMode::kRefund), 1);
  expect_nothing_hashed_or_stored();
}

// --- The invite and its budgets ---------------------------------------------------------------

TEST_F(RegisterAccount, UnknownInviteIsRefusedAndCounted) {
  EXPECT_TRUE(refused(register_with(Body().set("invite_code", json_string(kUnknownCode))),
                      Code::kInvalidArgument, Msg::kInviteInvalid));
  EXPECT_EQ(limiter.count(invite_key(kAddress), LimitMode::kTake), 1);
  EXPECT_EQ(limiter.count(invite_key(kAddress), LimitMode::kRefund), 0);  // the failure counts
  EXPECT_EQ(limiter.count(network_budget_key(kAddress), LimitMode::kTake), 1);
  EXPECT_EQ(limiter.count(network_budget_key(kAddress), LimitMode::kRefund), 0);
  EXPECT_EQ(limiter.counter(kFailuresCounter), 1);
  expect_nothing_hashed_or_stored();
}

TEST_F(RegisterAccount, ExpiredRevokedAndUsedUpInvitesAreAllInvalid) {
  invites.add("1111-1111", invite_spec(std::nullopt, 1));
  clock.advance(3600);
  const std::string revoked = invites.add("2222-2222").id;
  ASSERT_TRUE(invites.revoke(revoked, std::nullopt, "").is_ok());
  invites.add("3333-3333", invite_spec(1));
  ASSERT_TRUE(invites.consume("33333333"));
  for (const char* code : {"1111-1111", "2222-2222", "3333-3333", "not a code!"}) {
    EXPECT_TRUE(refused(register_with(Body().set("invite_code", json_string(code))),
                        Code::kInvalidArgument, Msg::kInviteInvalid))
        << code;
  }
  EXPECT_EQ(limiter.counter(kFailuresCounter), 4);
  expect_nothing_hashed_or_stored();
}

TEST_F(RegisterAccount, ValidInviteGivesTheAttemptBackAndIsConsumedOnce) {
  ASSERT_TRUE(register_with(Body()).is_ok());
  EXPECT_EQ(limiter.count(invite_key(kAddress), LimitMode::kTake), 1);
  EXPECT_EQ(limiter.count(invite_key(kAddress), LimitMode::kRefund), 1);
  EXPECT_EQ(limiter.counter(kFailuresCounter), 0);
  EXPECT_EQ(invite_uses(), 1);
  ASSERT_EQ(accounts.users().size(), 1U);
  EXPECT_EQ(accounts.users()[0].account.invite_code, "ABCDEFGHJKMNPQRSTVWXYZ012345");
  EXPECT_EQ(accounts.users()[0].created.invite_id, invites.find(kInviteCode)->id);
}

TEST_F(RegisterAccount, InviteCodeIsNormalisedBeforeTheLookup) {
  // Lower case, blanks, no dashes, and Crockford's aliases (o for 0, l for 1).
  ASSERT_TRUE(register_with(Body().set("invite_code", R"(" abcd efgh jkmn pqrs tvwx yzol 2345 ")"))
                  .is_ok());
  ASSERT_EQ(invites.lookups().size(), 1U);
  EXPECT_EQ(invites.lookups()[0], "ABCDEFGHJKMNPQRSTVWXYZ012345");
  EXPECT_EQ(invite_uses(), 1);
}

TEST_F(RegisterAccount, FailedInviteLookupIs503AndGivesTheAttemptBack) {
  invites.failures.find_usable = unavailable("PostgreSQL: could not connect to server");
  Result<Registered> r = register_with(Body());
  EXPECT_TRUE(refused(r, Code::kUnavailable, Msg::kUnavailable));
  EXPECT_NE(r.status().detail().find("could not connect"), std::string::npos);
  EXPECT_EQ(limiter.count(invite_key(kAddress), LimitMode::kRefund), 1);
  EXPECT_EQ(limiter.counter(kFailuresCounter), 0);
  expect_nothing_hashed_or_stored();
}

TEST_F(RegisterAccount, LimitedInviteAttemptsAre429WithoutALookup) {
  limiter.exhaust(invite_key(kAddress), kInviteLimit);
  Result<Registered> r = register_with(Body());  // even a valid code
  EXPECT_TRUE(refused(r, Code::kResourceExhausted, Msg::kRateLimited));
  EXPECT_EQ(r.status().retry_after(), 10);
  EXPECT_TRUE(invites.lookups().empty());
  expect_nothing_hashed_or_stored();
}

TEST_F(RegisterAccount, FiveFailedInvitesLimitTheAddress) {
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE(refused(register_with(Body().set("invite_code", json_string(kUnknownCode))),
                        Code::kInvalidArgument, Msg::kInviteInvalid));
  }
  EXPECT_TRUE(refused(register_with(Body()), Code::kResourceExhausted, Msg::kRateLimited));
  EXPECT_EQ(invites.lookups().size(), 5U);
}

TEST_F(RegisterAccount, AnExhaustedNetworkIs429AndGivesTheAddressItsAttemptBack) {
  limiter.exhaust(network_budget_key(kAddress), kInviteNetworkLimit);
  EXPECT_TRUE(refused(register_with(Body()), Code::kResourceExhausted, Msg::kRateLimited));
  EXPECT_EQ(limiter.count(invite_key(kAddress), LimitMode::kTake), 1);
  EXPECT_EQ(limiter.count(invite_key(kAddress), LimitMode::kRefund), 1);
  EXPECT_TRUE(invites.lookups().empty());
  expect_nothing_hashed_or_stored();
}

TEST_F(RegisterAccount, UnreachableInviteBudgetIs503WithoutALookup) {
  limiter.fail_with(invite_key(kAddress), unavailable("Redis: timeout after 50 ms"));
  Result<Registered> r = register_with(Body());
  EXPECT_TRUE(refused(r, Code::kUnavailable, Msg::kUnavailable));
  EXPECT_EQ(r.status().detail(), "Redis: timeout after 50 ms");
  EXPECT_TRUE(invites.lookups().empty());
  expect_nothing_hashed_or_stored();
}

TEST_F(RegisterAccount, OpenModeIgnoresTheInviteCode) {
  policy.mode = RegistrationMode::kOpen;
  ASSERT_TRUE(register_with(Body().set("invite_code", "42")).is_ok());  // not even its type matters
  ASSERT_TRUE(register_with(Body()
                                .set("invite_code", json_string(kUnknownCode))
                                .set("username", R"("bob")")
                                .set("email", R"("bob@example.com")"))
                  .is_ok());
  ASSERT_TRUE(register_with(Body()
                                .drop("invite_code")
                                .set("username", R"("carol")")
                                .set("email", R"("carol@example.com")"))
                  .is_ok());
  EXPECT_FALSE(limiter.touched("chatalot:rl:invite"));
  EXPECT_TRUE(invites.lookups().empty());
  ASSERT_EQ(accounts.users().size(), 3U);
  for (const auto& user : accounts.users()) {
    EXPECT_FALSE(user.account.invite_code) << user.account.input.username;
    EXPECT_FALSE(user.created.invite_id) << user.account.input.username;
  }
  EXPECT_EQ(invite_uses(), 0);
}

// --- The hash and the secrets ----------------------------------------------------------------

TEST_F(RegisterAccount, HasherWithoutASlotIs503AndStoresNothing) {
  hasher.fail_with(unavailable("argon2: no hashing slot free within 2000 ms"));
  Result<Registered> r = register_with(Body());
  EXPECT_TRUE(refused(r, Code::kUnavailable, Msg::kUnavailable));
  EXPECT_NE(r.status().detail().find("argon2"), std::string::npos);
  EXPECT_EQ(hasher.calls(), 1);
  EXPECT_EQ(accounts.create_calls(), 0);
  EXPECT_EQ(invite_uses(), 0);
}

TEST_F(RegisterAccount, FailingRandomSourceIs503AndStoresNothing) {
  random.fail_with(unavailable("RAND_bytes: PRNG not seeded"));
  Result<Registered> r = register_with(Body());
  EXPECT_TRUE(refused(r, Code::kUnavailable, Msg::kUnavailable));
  EXPECT_EQ(r.status().detail(), "RAND_bytes: PRNG not seeded");
  EXPECT_EQ(accounts.create_calls(), 0);
  EXPECT_TRUE(accounts.users().empty());
  // A source failing on a later draw (the recovery code) is refused just the same.
  FakeRandom late;
  late.fail_with(unavailable("RAND_bytes: entropy source failure"), 1);
  RegistrationDeps with_late{policy, accounts, invites, limiter, hasher, signer, keys, clock, late};
  EXPECT_TRUE(
      refused(register_account({Body().json(), kAddress, kRequestId, kUserAgent}, with_late),
              Code::kUnavailable, Msg::kUnavailable));
  EXPECT_EQ(accounts.create_calls(), 0);
  EXPECT_TRUE(signer.signed_claims().empty());
}

// --- The transaction -------------------------------------------------------------------------

TEST_F(RegisterAccount, FailingCreateIsPassedThroughWithItsGenericMessage) {
  accounts.failures.create =
      unavailable("PostgreSQL: terminating connection due to administrator command");
  Result<Registered> r = register_with(Body());
  EXPECT_TRUE(refused(r, Code::kUnavailable, Msg::kUnavailable));
  EXPECT_EQ(r.status().message().find("PostgreSQL"), std::string::npos);
  EXPECT_NE(r.status().detail().find("administrator command"), std::string::npos);
  EXPECT_TRUE(signer.signed_claims().empty());
}

TEST_F(RegisterAccount, ConcurrentTwinGetsTheContracts409) {
  accounts.failures.create =
      Status(Code::kAlreadyExists, Msg::kEmailTaken, "users_email_lower_key");
  EXPECT_TRUE(refused(register_with(Body()), Code::kAlreadyExists, Msg::kEmailTaken));
}

TEST_F(RegisterAccount, SignerFailureRollsTheAccountBack) {
  signer.fail_with(internal_error("EVP_DigestSign: error:1C800066"));
  Result<Registered> r = register_with(Body());
  EXPECT_TRUE(refused(r, Code::kInternal, Msg::kInternal));
  EXPECT_EQ(r.status().detail(), "EVP_DigestSign: error:1C800066");
  EXPECT_EQ(signer.signed_claims().size(), 1U);
  EXPECT_TRUE(accounts.users().empty());
  EXPECT_EQ(invite_uses(), 0);  // the invite use went back with the transaction
}

// --- Success ---------------------------------------------------------------------------------

TEST_F(RegisterAccount, FirstAccountIsOwnerAndAdmin) {
  Result<Registered> r = register_with(Body().set("display_name", R"("  Alice A.  ")"));
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_EQ(accounts.users().size(), 1U);
  const FakeAccountStore::Stored& stored = accounts.users()[0];

  EXPECT_TRUE(r->is_owner);
  EXPECT_EQ(r->user_id, stored.created.id);
  EXPECT_EQ(r->username, "alice");
  EXPECT_EQ(r->display_name, "Alice A.");  // trimmed
  EXPECT_EQ(r->created_at, FakeAccountStore::kCreatedAt);
  EXPECT_EQ(r->access_token, "token-for-" + stored.created.id);
  // The client gets exactly the secrets whose hashes the store keeps.
  EXPECT_EQ(r->refresh_token, stored.account.refresh_token);
  EXPECT_EQ(r->recovery_code, stored.account.recovery_code);
  EXPECT_EQ(r->refresh_token.size(), 64U);
  EXPECT_EQ(r->recovery_code.size(), 19U);  // XXXX-XXXX-XXXX-XXXX
  EXPECT_EQ(stored.account.password_hash,
            std::string(FakeHasher::kPrefix) + std::string(kPassword));
  EXPECT_EQ(stored.account.request_id, kRequestId);
  EXPECT_EQ(stored.account.input.email, "alice@example.com");
  EXPECT_EQ(stored.account.input.signed_prekey_id, 7U);
  ASSERT_EQ(stored.account.input.one_time_prekeys.size(), 2U);
  EXPECT_EQ(stored.account.input.one_time_prekeys[1].key_id, 2U);
  EXPECT_EQ(hasher.calls(), 1);

  ASSERT_EQ(signer.signed_claims().size(), 1U);
  const AccessClaims& claims = signer.signed_claims()[0];
  EXPECT_EQ(claims.sub, stored.created.id);
  EXPECT_EQ(claims.username, "alice");
  EXPECT_TRUE(claims.is_admin);
  EXPECT_TRUE(claims.is_owner);
  EXPECT_EQ(claims.iat, clock.now_seconds());
  EXPECT_EQ(claims.exp, claims.iat + 900);
  EXPECT_EQ(claims.aud, "chatalot");
  EXPECT_TRUE(is_uuid(claims.jti)) << claims.jti;
  // The token names the session the registration started, as the session list shows it.
  EXPECT_EQ(claims.sid, stored.created.session_id);
  EXPECT_EQ(stored.account.origin.device_name, "Firefox on Linux");
  EXPECT_EQ(stored.account.origin.ip_address, kAddress);
}

TEST_F(RegisterAccount, WithoutAUserAgentTheSessionHasNoDeviceName) {
  Result<Registered> r = register_account({Body().json(), "2001:db8::7", kRequestId, ""}, deps);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  ASSERT_EQ(accounts.users().size(), 1U);
  EXPECT_EQ(accounts.users()[0].account.origin.device_name, std::nullopt);
  EXPECT_EQ(accounts.users()[0].account.origin.ip_address, "2001:db8::7");
}

TEST_F(RegisterAccount, SecondAccountIsNeitherOwnerNorAdmin) {
  Result<Registered> first = register_with(Body());
  ASSERT_TRUE(first.is_ok()) << first.status().message();
  Result<Registered> second =
      register_with(Body().set("username", R"("bob")").set("email", R"("bob@example.com")"));
  ASSERT_TRUE(second.is_ok()) << second.status().message();
  EXPECT_FALSE(second->is_owner);
  EXPECT_EQ(second->display_name, "bob");  // absent: the username
  ASSERT_EQ(signer.signed_claims().size(), 2U);
  EXPECT_FALSE(signer.signed_claims()[1].is_admin);
  EXPECT_FALSE(signer.signed_claims()[1].is_owner);
  EXPECT_NE(signer.signed_claims()[1].jti, signer.signed_claims()[0].jti);
  EXPECT_NE(second->refresh_token, first->refresh_token);
  EXPECT_EQ(invite_uses(), 2);
}

TEST_F(RegisterAccount, AccountAfterARolledBackOneIsStillTheOwner) {
  signer.fail_with(internal_error("EVP_DigestSign failed"));
  ASSERT_FALSE(register_with(Body()).is_ok());
  FakeSigner working;
  RegistrationDeps again{policy, accounts, invites, limiter, hasher, working, keys, clock, random};
  Result<Registered> r = register_account({Body().json(), kAddress, kRequestId, kUserAgent}, again);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_TRUE(r->is_owner);
}

}  // namespace
}  // namespace chatalot
