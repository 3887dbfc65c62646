// The account's own endpoints over the fakes of fakes.h (SPEC section 3, "The session lifecycle"
// and "Keys"), for a caller authenticate() has let in: the account, its sessions, its password,
// its recovery code and its E2E keys.
#include "core/account.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/codes.h"
#include "core/limits.h"
#include "fakes.h"
#include "refused.h"

namespace chatalot {
namespace {

using testing::refused;
using testing::FakeClock;
using testing::FakeHasher;
using testing::FakeKeyChecks;
using testing::FakeKeyStore;
using testing::FakeLimiter;
using testing::FakeRandom;
using testing::FakeSessionStore;
using testing::FakeVerifier;

const CredentialLimits kLimits{{0.05, 20}, {0.02, 10}, {0.2, 50}};
constexpr std::string_view kAddress = "203.0.113.7";
constexpr std::string_view kRequestId = "req-2";
constexpr std::string_view kPassword = "Correct-horse-9";
constexpr std::string_view kNewPassword = "Battery-staple-7";

std::string json_string(std::string_view s) { return "\"" + std::string(s) + "\""; }

std::string password_body(std::string_view current, std::string_view next) {
  return "{\"current_password\":" + json_string(current) +
         ",\"new_password\":" + json_string(next) + "}";
}


class AccountTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Account& alice = sessions.add("alice", kPassword);
    alice.display_name = "Alice A.";
    const std::string bob_id = sessions.add("bob").id;
    // Alice on three devices (the caller's is the second), Bob on one.
    clock.advance(10);
    laptop =
        sessions.add_session(alice.id, std::string(64, '1'), {"Firefox on Linux", "198.51.100.1"});
    clock.advance(10);
    phone = sessions.add_session(alice.id, std::string(64, '2'), {"Safari on iOS", "2001:db8::2"});
    clock.advance(10);
    tablet = sessions.add_session(alice.id, std::string(64, '3'), {std::nullopt, "203.0.113.3"});
    bobs = sessions.add_session(bob_id, std::string(64, '4'));
    caller = Caller{alice.id, phone, Roles{}};
  }

  FakeClock clock;
  FakeSessionStore sessions{clock};
  FakeLimiter limiter{clock};
  FakeHasher hasher;
  FakeRandom random;
  Caller caller;
  std::string laptop, phone, tablet, bobs;
};

// --- GET /api/account/me -------------------------------------------------------------------

Result<Account> me(std::string_view authorization, FakeSessionStore& sessions) {
  const FakeVerifier verifier;
  const FakeClock clock;
  return my_account(authorization, verifier, clock, sessions);
}

TEST_F(AccountTest, MeIsTheAccountAsStoredWithoutItsHashFromOneLookup) {
  Result<Account> account = me("Bearer valid:" + caller.user_id, sessions);
  ASSERT_TRUE(account.is_ok()) << account.status().message();
  EXPECT_EQ(account->id, caller.user_id);
  EXPECT_EQ(account->username, "alice");
  EXPECT_EQ(account->display_name, "Alice A.");
  EXPECT_EQ(account->status, "offline");
  EXPECT_EQ(account->password_hash, "");  // never leaves the domain
  // The bearer check and the answer share one read of the account.
  EXPECT_EQ(sessions.id_lookups(), std::vector<std::string>{caller.user_id});
}

TEST_F(AccountTest, MeKeepsTheBearerRules) {
  EXPECT_TRUE(refused(me("", sessions), Code::kUnauthenticated, Msg::kTokenMissing));
  EXPECT_TRUE(refused(me("Bearer expired", sessions), Code::kUnauthenticated, Msg::kTokenExpired));
  EXPECT_TRUE(refused(me("Bearer valid:not-a-uuid", sessions), Code::kUnauthenticated, Msg::kTokenInvalid));
  EXPECT_TRUE(sessions.id_lookups().empty());  // refused before any lookup
  const std::string gone = testing::fake_uuid("11111111", 99);
  EXPECT_TRUE(refused(me("Bearer valid:" + gone, sessions), Code::kUnauthenticated, Msg::kTokenInvalid));
  sessions.account(caller.user_id)->suspended_at = "2026-01-01T00:00:00Z";
  EXPECT_TRUE(refused(me("Bearer valid:" + caller.user_id, sessions), Code::kPermissionDenied,
                      Msg::kAccountSuspended));
}

TEST_F(AccountTest, MeWithTheStoreAwayIs503) {
  sessions.failures.find_by_id = unavailable("PostgreSQL: timeout");
  EXPECT_TRUE(refused(me("Bearer valid:" + caller.user_id, sessions), Code::kUnavailable, Msg::kUnavailable));
}

// --- Sessions ------------------------------------------------------------------------------

TEST_F(AccountTest, TheSessionListIsTheLiveOnesNewestFirst) {
  ASSERT_TRUE(logout(SessionRequest{"{\"refresh_token\":\"" + std::string(64, '1') + "\"}",
                                    kAddress, "", kRequestId},
                     sessions)
                  .is_ok());
  Result<std::vector<SessionInfo>> list = my_sessions(caller, sessions);
  ASSERT_TRUE(list.is_ok()) << list.status().message();
  ASSERT_EQ(list->size(), 2U);  // not the ended laptop, not Bob's
  EXPECT_EQ((*list)[0].id, tablet);
  EXPECT_EQ((*list)[0].device_name, std::nullopt);
  EXPECT_EQ((*list)[1].id, phone);
  EXPECT_EQ((*list)[1].device_name, "Safari on iOS");
  EXPECT_EQ((*list)[1].ip_address, "2001:db8::2");
}

TEST_F(AccountTest, EndingOneOfMySessionsLeavesTheOthers) {
  EXPECT_TRUE(end_my_session(caller, laptop, kRequestId, sessions).is_ok());
  EXPECT_FALSE(sessions.live(*sessions.session(laptop)));
  EXPECT_EQ(sessions.live_count(caller.user_id), 2);
  ASSERT_EQ(sessions.ended_one().size(), 1U);
  EXPECT_EQ(sessions.ended_one()[0].user_id, caller.user_id);
  EXPECT_EQ(sessions.ended_one()[0].request_id, kRequestId);
  // Ended already: there is no such live session any more.
  EXPECT_TRUE(refused(end_my_session(caller, laptop, kRequestId, sessions), Code::kNotFound,
                      Msg::kSessionNotFound));
}

TEST_F(AccountTest, AnotherAccountsSessionIsNotFoundAndStaysLive) {
  EXPECT_TRUE(refused(end_my_session(caller, bobs, kRequestId, sessions), Code::kNotFound,
                      Msg::kSessionNotFound));
  EXPECT_TRUE(sessions.live(*sessions.session(bobs)));
  EXPECT_TRUE(
      refused(end_my_session(caller, testing::fake_uuid("22222222", 99), kRequestId, sessions),
              Code::kNotFound, Msg::kSessionNotFound));
}

TEST_F(AccountTest, ASessionIdThatIsNoUuidIsNotFoundWithoutAStoreCall) {
  for (const char* id : {"", "1", "not-a-uuid", "22222222-0000-4000-8000-00000000000g",
                         "'; DELETE FROM sessions; --"}) {
    EXPECT_TRUE(refused(end_my_session(caller, id, kRequestId, sessions), Code::kNotFound,
                        Msg::kSessionNotFound))
        << id;
  }
  EXPECT_TRUE(sessions.ended_one().empty());
}

TEST_F(AccountTest, LogoutAllEndsEveryLiveSessionTheCallersIncludedAndCountsThem) {
  ASSERT_TRUE(end_my_session(caller, laptop, kRequestId, sessions).is_ok());
  Result<std::int64_t> n = end_all_my_sessions(caller, kRequestId, sessions);
  ASSERT_TRUE(n.is_ok()) << n.status().message();
  EXPECT_EQ(*n, 2);  // the phone (the caller's) and the tablet; the laptop had ended
  EXPECT_EQ(sessions.live_count(caller.user_id), 0);
  EXPECT_TRUE(sessions.live(*sessions.session(bobs)));
  ASSERT_EQ(sessions.ended_all().size(), 1U);
  const FakeSessionStore::EndSessionsCall& call = sessions.ended_all()[0];
  EXPECT_EQ(call.keep, "");
  EXPECT_EQ(call.reason, "logout_all");
  EXPECT_EQ(call.actor, caller.user_id);
  EXPECT_EQ(call.request_id, kRequestId);
  n = end_all_my_sessions(caller, kRequestId, sessions);
  ASSERT_TRUE(n.is_ok());
  EXPECT_EQ(*n, 0);
}

// --- PUT /api/account/password -------------------------------------------------------------

class ChangePassword : public AccountTest {
 protected:
  Status change(const std::string& body, std::string_view addr = kAddress) {
    return change_password(caller, body, addr, kRequestId, deps);
  }
  std::string address_key(std::string_view addr = kAddress) const {
    return "chatalot:rl:password:addr:" + client_key(addr);
  }
  std::string account_key() const { return "chatalot:rl:password:acct:" + caller.user_id; }

  PasswordChangeDeps deps{kLimits, sessions, limiter, hasher};
};

TEST_F(ChangePassword, TheBodysTypesAndTheNewPasswordsRulesComeFirstAndSpendNothing) {
  EXPECT_TRUE(refused(change("{"), Code::kInvalidArgument, Msg::kBodyInvalidJson));
  EXPECT_TRUE(refused(change("{\"new_password\":" + json_string(kNewPassword) + "}"),
                      Code::kInvalidArgument, Msg::kCurrentPasswordNotString));
  EXPECT_TRUE(
      refused(change("{\"current_password\":" + json_string(kPassword) + ",\"new_password\":1}"),
              Code::kInvalidArgument, Msg::kNewPasswordNotString));
  EXPECT_TRUE(refused(change(password_body(kPassword, "short")), Code::kInvalidArgument,
                      Msg::kPasswordTooShort));
  EXPECT_TRUE(refused(change(password_body(kPassword, "lowercase-only-1")), Code::kInvalidArgument,
                      Msg::kPasswordUpper));
  EXPECT_TRUE(refused(change(password_body(kPassword, "NoSpecials123")), Code::kInvalidArgument,
                      Msg::kPasswordSpecial));
  EXPECT_TRUE(limiter.calls().empty());
  EXPECT_TRUE(hasher.verifications().empty());
  EXPECT_TRUE(sessions.password_changes().empty());
}

TEST_F(ChangePassword, AWrongCurrentPasswordIs401AndKeepsTheBudgets) {
  EXPECT_TRUE(refused(change(password_body("Wrong-horse-9", kNewPassword)), Code::kUnauthenticated,
                      Msg::kPasswordInvalid));
  ASSERT_EQ(hasher.verifications().size(), 1U);
  EXPECT_EQ(hasher.verifications()[0].phc, FakeHasher::hashed(kPassword));
  EXPECT_EQ(limiter.count(address_key(), LimitMode::kTake), 1);
  EXPECT_EQ(limiter.count(address_key(), LimitMode::kRefund), 0);
  EXPECT_EQ(limiter.count(account_key(), LimitMode::kRefund), 0);
  EXPECT_TRUE(sessions.password_changes().empty());
  EXPECT_EQ(hasher.calls(), 0);
  EXPECT_EQ(sessions.live_count(caller.user_id), 3);
}

TEST_F(ChangePassword, SuccessStoresTheNewHashAndEndsEveryOtherSession) {
  ASSERT_TRUE(change(password_body(kPassword, kNewPassword)).is_ok());
  EXPECT_EQ(sessions.account(caller.user_id)->password_hash, FakeHasher::hashed(kNewPassword));
  ASSERT_EQ(sessions.password_changes().size(), 1U);
  EXPECT_EQ(sessions.password_changes()[0].keep, phone);
  EXPECT_EQ(sessions.password_changes()[0].request_id, kRequestId);
  EXPECT_TRUE(sessions.live(*sessions.session(phone)));  // the caller stays signed in
  EXPECT_FALSE(sessions.live(*sessions.session(laptop)));
  EXPECT_FALSE(sessions.live(*sessions.session(tablet)));
  EXPECT_TRUE(sessions.live(*sessions.session(bobs)));
  EXPECT_EQ(limiter.count(address_key(), LimitMode::kRefund), 1);
  EXPECT_EQ(limiter.count(account_key(), LimitMode::kRefund), 1);
  // The old password no longer verifies, the new one does.
  EXPECT_TRUE(refused(change(password_body(kPassword, "Third-password-3")), Code::kUnauthenticated,
                      Msg::kPasswordInvalid));
  EXPECT_TRUE(change(password_body(kNewPassword, "Third-password-3")).is_ok());
}

TEST_F(ChangePassword, ALimitedCallerIsRefusedEvenWithTheRightPassword) {
  limiter.exhaust(account_key(), kLimits.per_account);
  Status s = change(password_body(kPassword, kNewPassword));
  EXPECT_TRUE(refused(s, Code::kResourceExhausted, Msg::kRateLimited));
  EXPECT_GE(s.retry_after(), 1);
  EXPECT_TRUE(hasher.verifications().empty());
  EXPECT_EQ(limiter.count(address_key(), LimitMode::kRefund), 1);  // the earlier budget back
  FakeLimiter fresh{clock};
  PasswordChangeDeps other{kLimits, sessions, fresh, hasher};
  fresh.exhaust(address_key(), kLimits.per_address);
  EXPECT_TRUE(refused(
      change_password(caller, password_body(kPassword, kNewPassword), kAddress, kRequestId, other),
      Code::kResourceExhausted, Msg::kRateLimited));
  EXPECT_TRUE(sessions.password_changes().empty());
}

TEST_F(ChangePassword, RepeatedWrongPasswordsAreLimited) {
  int failures = 0;
  for (; failures < 51; ++failures) {
    const Status s = change(password_body("Wrong-horse-9", kNewPassword));
    if (s.code() == Code::kResourceExhausted) break;
    EXPECT_TRUE(refused(s, Code::kUnauthenticated, Msg::kPasswordInvalid));
  }
  EXPECT_EQ(failures, 20);  // the per-address burst
  EXPECT_TRUE(refused(change(password_body(kPassword, kNewPassword)), Code::kResourceExhausted,
                      Msg::kRateLimited));
}

TEST_F(ChangePassword, ADeletedAccountIs401AndGivesTheBudgetsBack) {
  caller.user_id = testing::fake_uuid("11111111", 99);
  EXPECT_TRUE(refused(change(password_body(kPassword, kNewPassword)), Code::kUnauthenticated,
                      Msg::kTokenInvalid));
  EXPECT_EQ(limiter.count(address_key(), LimitMode::kRefund), 1);
  EXPECT_TRUE(hasher.verifications().empty());
}

TEST_F(ChangePassword, DependencyFailuresAre503AndChangeNothing) {
  sessions.failures.find_by_id = unavailable("PostgreSQL: timeout");
  EXPECT_TRUE(refused(change(password_body(kPassword, kNewPassword)), Code::kUnavailable,
                      Msg::kUnavailable));
  EXPECT_EQ(limiter.count(account_key(), LimitMode::kRefund), 1);
  sessions.failures.find_by_id.reset();

  hasher.fail_verify_with(unavailable("password hashing queue full"));
  EXPECT_TRUE(refused(change(password_body(kPassword, kNewPassword)), Code::kUnavailable,
                      Msg::kUnavailable));
  EXPECT_EQ(limiter.count(account_key(), LimitMode::kRefund), 2);

  FakeHasher hashing_fails;
  hashing_fails.fail_with(unavailable("password hashing queue full"));
  PasswordChangeDeps other{kLimits, sessions, limiter, hashing_fails};
  EXPECT_TRUE(refused(
      change_password(caller, password_body(kPassword, kNewPassword), kAddress, kRequestId, other),
      Code::kUnavailable, Msg::kUnavailable));
  EXPECT_TRUE(sessions.password_changes().empty());
  EXPECT_EQ(sessions.account(caller.user_id)->password_hash, FakeHasher::hashed(kPassword));
  EXPECT_EQ(sessions.live_count(caller.user_id), 3);
}

// --- POST /api/account/regenerate-recovery-code --------------------------------------------

TEST_F(AccountTest, ANewRecoveryCodeReplacesTheOld) {
  const std::string old = sessions.recovery_code(caller.user_id);
  Result<std::string> code = regenerate_recovery_code(caller, kRequestId, sessions, random);
  ASSERT_TRUE(code.is_ok()) << code.status().message();
  EXPECT_EQ(normalize_recovery_code(*code), *code);  // XXXX-XXXX-XXXX-XXXX
  EXPECT_NE(*code, old);
  EXPECT_EQ(sessions.recovery_code(caller.user_id), *code);
  ASSERT_EQ(sessions.recovery_code_sets().size(), 1U);
  EXPECT_EQ(sessions.recovery_code_sets()[0].request_id, kRequestId);
  Result<std::string> again = regenerate_recovery_code(caller, kRequestId, sessions, random);
  ASSERT_TRUE(again.is_ok());
  EXPECT_NE(*again, *code);
}

TEST_F(AccountTest, ARecoveryCodeThatCannotBeMadeOrStoredIs503) {
  const std::string old = sessions.recovery_code(caller.user_id);
  random.fail_with(unavailable("RAND_bytes failed"));
  EXPECT_TRUE(refused(regenerate_recovery_code(caller, kRequestId, sessions, random),
                      Code::kUnavailable, Msg::kUnavailable));
  EXPECT_TRUE(sessions.recovery_code_sets().empty());
  FakeRandom working;
  sessions.failures.set_recovery_code = unavailable("PostgreSQL: timeout");
  EXPECT_TRUE(refused(regenerate_recovery_code(caller, kRequestId, sessions, working),
                      Code::kUnavailable, Msg::kUnavailable));
  EXPECT_EQ(sessions.recovery_code(caller.user_id), old);
}

// --- POST /api/keys/register ---------------------------------------------------------------

std::string byte_array(std::size_t n, int value) {
  std::string out = "[";
  for (std::size_t i = 0; i < n; ++i) out += (i ? "," : "") + std::to_string(value);
  return out + "]";
}

std::string prekey(int id) {
  return R"({"key_id":)" + std::to_string(id) + R"(,"public_key":)" + byte_array(32, id) + "}";
}

std::string keys_body(const std::string& identity_key = byte_array(32, 9),
                      const std::string& signed_prekey = R"({"key_id":7,"public_key":)" +
                                                         byte_array(32, 8) + R"(,"signature":)" +
                                                         byte_array(64, 6) + "}",
                      const std::string& one_time = "[" + prekey(1) + "," + prekey(2) + "]") {
  return R"({"identity_key":)" + identity_key + R"(,"signed_prekey":)" + signed_prekey +
         R"(,"one_time_prekeys":)" + one_time + "}";
}

class RegisterKeys : public AccountTest {
 protected:
  Status register_with(const std::string& body) {
    return register_keys(caller, body, kRequestId, checks, keys);
  }
  FakeKeyChecks checks;
  FakeKeyStore keys;
};

TEST_F(RegisterKeys, ValidKeysReplaceTheAccounts) {
  ASSERT_TRUE(register_with(keys_body()).is_ok());
  ASSERT_EQ(keys.replaced().size(), 1U);
  const FakeKeyStore::Replaced& r = keys.replaced()[0];
  EXPECT_EQ(r.user_id, caller.user_id);
  EXPECT_EQ(r.request_id, kRequestId);
  EXPECT_EQ(r.keys.identity_key[0], 9);
  EXPECT_EQ(r.keys.signed_prekey_id, 7U);
  EXPECT_EQ(r.keys.signed_prekey[31], 8);
  EXPECT_EQ(r.keys.signed_prekey_signature[63], 6);
  ASSERT_EQ(r.keys.one_time_prekeys.size(), 2U);
  EXPECT_EQ(r.keys.one_time_prekeys[1].key_id, 2U);
  // Registration's other fields are not asked for; no one-time prekeys is allowed.
  ASSERT_TRUE(register_with(keys_body(byte_array(32, 9),
                                      R"({"key_id":7,"public_key":)" + byte_array(32, 8) +
                                          R"(,"signature":)" + byte_array(64, 6) + "}",
                                      "[]"))
                  .is_ok());
  EXPECT_TRUE(keys.replaced()[1].keys.one_time_prekeys.empty());
}

TEST_F(RegisterKeys, TheRegistrationsKeyMessagesInItsOrder) {
  const std::string good_prekey = R"({"key_id":7,"public_key":)" + byte_array(32, 8) +
                                  R"(,"signature":)" + byte_array(64, 6) + "}";
  EXPECT_TRUE(refused(register_with("[]"), Code::kInvalidArgument, Msg::kBodyNotObject));
  EXPECT_TRUE(refused(register_with("{}"), Code::kInvalidArgument, Msg::kIdentityKeySize));
  EXPECT_TRUE(refused(register_with(keys_body(byte_array(31, 1), "[]")), Code::kInvalidArgument,
                      Msg::kIdentityKeySize));
  EXPECT_TRUE(refused(register_with(keys_body(byte_array(32, 256))), Code::kInvalidArgument,
                      Msg::kIdentityKeyBytes));
  EXPECT_TRUE(refused(register_with(keys_body(byte_array(32, 1), "[]")), Code::kInvalidArgument,
                      Msg::kSignedPrekeyNotObject));
  EXPECT_TRUE(refused(register_with(keys_body(byte_array(32, 1),
                                              R"({"key_id":7,"public_key":)" + byte_array(31, 8) +
                                                  R"(,"signature":)" + byte_array(64, 6) + "}")),
                      Code::kInvalidArgument, Msg::kSignedPrekeySize));
  EXPECT_TRUE(refused(register_with(keys_body(byte_array(32, 1),
                                              R"({"key_id":7,"public_key":)" + byte_array(32, 8) +
                                                  R"(,"signature":)" + byte_array(63, 6) + "}")),
                      Code::kInvalidArgument, Msg::kSignatureSize));
  EXPECT_TRUE(refused(register_with(keys_body(byte_array(32, 1), good_prekey, R"("many")")),
                      Code::kInvalidArgument, Msg::kPrekeysNotArray));
  std::string many = "[";
  for (int i = 0; i < 201; ++i) many += (i ? "," : "") + prekey(i);
  EXPECT_TRUE(refused(register_with(keys_body(byte_array(32, 1), good_prekey, many + "]")),
                      Code::kInvalidArgument, Msg::kPrekeysTooMany));
  EXPECT_TRUE(refused(register_with(keys_body(byte_array(32, 1), good_prekey,
                                              "[" + prekey(3) + "," + prekey(3) + "]")),
                      Code::kInvalidArgument, Msg::kPrekeyDuplicate));
  // The Ed25519 checks: the identity key, then the signature, then the one-time prekeys.
  checks.signature_valid = false;
  EXPECT_TRUE(refused(register_with(keys_body(byte_array(32, 1), good_prekey, "7")),
                      Code::kInvalidArgument, Msg::kSignatureInvalid));
  checks.identity_key_valid = false;
  EXPECT_TRUE(refused(register_with(keys_body(byte_array(32, 1), good_prekey, "7")),
                      Code::kInvalidArgument, Msg::kIdentityKeyInvalid));
  EXPECT_TRUE(keys.replaced().empty());
}

TEST_F(RegisterKeys, AStoreFailureIs503) {
  keys.failure = unavailable("PostgreSQL: could not serialize access");
  const Status s = register_with(keys_body());
  EXPECT_TRUE(refused(s, Code::kUnavailable, Msg::kUnavailable));
  EXPECT_EQ(s.detail(), "PostgreSQL: could not serialize access");
}

}  // namespace
}  // namespace chatalot
