// Bearer tokens over the fakes of fakes.h (SPEC section 3, "Bearer rules"): the Authorization
// header's shape, the verifier's answers, and the directory's word on the user (exists, not
// suspended, roles), asked on every request; then the admin check on top.
#include "core/auth.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

#include "fakes.h"

namespace chatalot {
namespace {

using testing::FakeClock;
using testing::FakeUserDirectory;
using testing::FakeVerifier;

const std::string kAdminId = "33333333-0000-4000-8000-000000000001";
const std::string kOwnerId = "33333333-0000-4000-8000-000000000002";
const std::string kMemberId = "33333333-0000-4000-8000-000000000003";
const std::string kGoneId = "33333333-0000-4000-8000-000000000004";
const std::string kSuspendedId = "33333333-0000-4000-8000-000000000005";
const std::string kSessionId = "22222222-0000-4000-8000-000000000001";

std::string bearer(std::string_view token) { return "Bearer " + std::string(token); }

TEST(BearerToken, ReadsTheTokenInAnyLetterCaseWithBlanksAround) {
  EXPECT_EQ(bearer_token("Bearer abc.def"), "abc.def");
  EXPECT_EQ(bearer_token("bearer abc"), "abc");
  EXPECT_EQ(bearer_token("BEARER\tabc"), "abc");
  EXPECT_EQ(bearer_token("  Bearer \t  abc \t "), "abc");
}

TEST(BearerToken, OtherShapesCountAsMissing) {
  for (const char* header : {"", " ", "Bearer", "Bearer ", "Bearer \t ", "Bearerabc", "Basic abc",
                             "Bearer a b", "Bearer a\tb", "Token abc", "abc"}) {
    EXPECT_EQ(bearer_token(header), std::nullopt) << '"' << header << '"';
  }
}

::testing::AssertionResult refused_with(const Result<Caller>& r, Code code, Message message) {
  if (r.is_ok()) return ::testing::AssertionFailure() << "let in " << r->user_id;
  if (r.status().code() != code || r.status().message() != message.text()) {
    return ::testing::AssertionFailure() << "code " << static_cast<int>(r.status().code())
                                         << " message \"" << r.status().message() << "\"";
  }
  return ::testing::AssertionSuccess();
}

class Bearer : public ::testing::Test {
 protected:
  void SetUp() override {
    users.set(kAdminId, Roles{true, false, false});
    users.set(kOwnerId, Roles{false, true, false});
    users.set(kMemberId, Roles{false, false, false});
    users.set(kSuspendedId, Roles{false, false, true});
  }

  Result<Caller> authorize(std::string_view header) { return authorize_admin(header, deps); }

  ::testing::AssertionResult refused(std::string_view header, Code code, Message message) {
    return refused_with(authorize(header), code, message);
  }

  FakeVerifier verifier;
  FakeClock clock;
  FakeUserDirectory users;
  AuthDeps deps{verifier, clock, users};
};

// --- authenticate(): any account's bearer ----------------------------------------------------

using Authenticate = Bearer;

TEST_F(Authenticate, AMemberIsLetInWithTheTokensSessionAndTheDatabasesRoles) {
  Result<Caller> r = authenticate(bearer("valid:" + kMemberId + "|" + kSessionId), deps);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->user_id, kMemberId);
  EXPECT_EQ(r->session_id, kSessionId);
  EXPECT_FALSE(r->roles.is_admin);
  EXPECT_FALSE(r->roles.is_owner);
  EXPECT_FALSE(r->roles.suspended);
  EXPECT_EQ(users.asked(), std::vector<std::string>{kMemberId});
}

TEST_F(Authenticate, ATokenFromBeforeSessionsHasNoSession) {
  Result<Caller> r = authenticate(bearer("valid:" + kOwnerId), deps);
  ASSERT_TRUE(r.is_ok()) << r.status().message();
  EXPECT_EQ(r->session_id, "");
  EXPECT_TRUE(r->roles.is_owner);  // the database's word, not the token's
}

TEST_F(Authenticate, ASuspendedAccountIsForbiddenAtOnce) {
  EXPECT_TRUE(refused_with(authenticate(bearer("valid:" + kSuspendedId), deps),
                           Code::kPermissionDenied, Msg::kAccountSuspended));
  // An admin too, and the admin check says the same.
  users.set(kAdminId, Roles{true, false, true});
  EXPECT_TRUE(refused_with(authenticate(bearer("valid:" + kAdminId), deps), Code::kPermissionDenied,
                           Msg::kAccountSuspended));
  EXPECT_TRUE(
      refused(bearer("valid:" + kAdminId), Code::kPermissionDenied, Msg::kAccountSuspended));
  // Unsuspended, the same token works again.
  users.set(kAdminId, Roles{true, false, false});
  EXPECT_TRUE(authenticate(bearer("valid:" + kAdminId), deps).is_ok());
}

TEST_F(Authenticate, ASidThatIsNoUuidIsInvalidBeforeAnySql) {
  for (const char* sid :
       {"x", "1", "22222222-0000-4000-8000-00000000000", "';DROP_TABLE_sessions"}) {
    EXPECT_TRUE(refused_with(authenticate(bearer("valid:" + kMemberId + "|" + sid), deps),
                             Code::kUnauthenticated, Msg::kTokenInvalid))
        << sid;
  }
  EXPECT_TRUE(users.asked().empty());
}

TEST_F(Authenticate, ADeletedUserIsInvalidToken) {
  EXPECT_TRUE(refused_with(authenticate(bearer("valid:" + kGoneId + "|" + kSessionId), deps),
                           Code::kUnauthenticated, Msg::kTokenInvalid));
  EXPECT_EQ(users.asked(), std::vector<std::string>{kGoneId});
}

TEST_F(Authenticate, MissingExpiredAndForgedTokensAreTheirOwn401s) {
  EXPECT_TRUE(refused_with(authenticate("", deps), Code::kUnauthenticated, Msg::kTokenMissing));
  EXPECT_TRUE(refused_with(authenticate(bearer("expired"), deps), Code::kUnauthenticated,
                           Msg::kTokenExpired));
  EXPECT_TRUE(refused_with(authenticate(bearer("forged"), deps), Code::kUnauthenticated,
                           Msg::kTokenInvalid));
  EXPECT_TRUE(users.asked().empty());
}

TEST_F(Authenticate, DirectoryFailurePassesThrough) {
  users.fail_with(unavailable("PostgreSQL: timeout"));
  Result<Caller> r = authenticate(bearer("valid:" + kMemberId), deps);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(r.status().detail(), "PostgreSQL: timeout");
}

// --- authorize_admin(): the admin API ----------------------------------------------------------

using AuthorizeAdmin = Bearer;

TEST_F(AuthorizeAdmin, MissingHeaderIsTokenMissing) {
  EXPECT_TRUE(refused("", Code::kUnauthenticated, Msg::kTokenMissing));
  EXPECT_TRUE(refused("Basic dXNlcjpwYXNz", Code::kUnauthenticated, Msg::kTokenMissing));
  EXPECT_TRUE(verifier.calls().empty());
  EXPECT_TRUE(users.asked().empty());
}

TEST_F(AuthorizeAdmin, BadTokenIsInvalidWithoutAskingTheDirectory) {
  EXPECT_TRUE(refused(bearer("forged"), Code::kUnauthenticated, Msg::kTokenInvalid));
  EXPECT_TRUE(users.asked().empty());
}

TEST_F(AuthorizeAdmin, ExpiredTokenIsExpired) {
  EXPECT_TRUE(refused(bearer("expired"), Code::kUnauthenticated, Msg::kTokenExpired));
  EXPECT_TRUE(users.asked().empty());
}

TEST_F(AuthorizeAdmin, VerifierGetsTheTokenAndTheClocksTime) {
  clock.advance(123);
  ASSERT_TRUE(authorize("  bearer  valid:" + kAdminId + " ").is_ok());
  ASSERT_EQ(verifier.calls().size(), 1U);
  EXPECT_EQ(verifier.calls()[0].token, "valid:" + kAdminId);
  EXPECT_EQ(verifier.calls()[0].now, testing::kStartTime + 123);
}

TEST_F(AuthorizeAdmin, SubThatIsNoUuidIsInvalidBeforeAnySql) {
  for (const char* sub : {"", "admin", "1", "33333333-0000-4000-8000-00000000000", "'OR'1'='1"}) {
    EXPECT_TRUE(
        refused(bearer(std::string("valid:") + sub), Code::kUnauthenticated, Msg::kTokenInvalid))
        << sub;
  }
  EXPECT_TRUE(users.asked().empty());
}

TEST_F(AuthorizeAdmin, UnknownUserIsInvalidToken) {
  EXPECT_TRUE(refused(bearer("valid:" + kGoneId), Code::kUnauthenticated, Msg::kTokenInvalid));
  EXPECT_EQ(users.asked(), std::vector<std::string>{kGoneId});
}

TEST_F(AuthorizeAdmin, MemberIsForbidden) {
  EXPECT_TRUE(refused(bearer("valid:" + kMemberId), Code::kPermissionDenied, Msg::kAdminRequired));
}

TEST_F(AuthorizeAdmin, AdminOrOwnerIsLetInWithTheirIdAndRoles) {
  Result<Caller> admin = authorize(bearer("valid:" + kAdminId + "|" + kSessionId));
  ASSERT_TRUE(admin.is_ok()) << admin.status().message();
  EXPECT_EQ(admin->user_id, kAdminId);
  EXPECT_EQ(admin->session_id, kSessionId);
  EXPECT_TRUE(admin->roles.is_admin);
  Result<Caller> owner = authorize(bearer("valid:" + kOwnerId));
  ASSERT_TRUE(owner.is_ok()) << owner.status().message();
  EXPECT_EQ(owner->user_id, kOwnerId);
  EXPECT_TRUE(owner->roles.is_owner);
}

TEST_F(AuthorizeAdmin, RolesAreAskedOnEveryRequestSoDemotionTakesEffectAtOnce) {
  ASSERT_TRUE(authorize(bearer("valid:" + kAdminId)).is_ok());
  users.set(kAdminId, Roles{false, false, false});
  EXPECT_TRUE(refused(bearer("valid:" + kAdminId), Code::kPermissionDenied, Msg::kAdminRequired));
  EXPECT_EQ(users.asked().size(), 2U);
}

TEST_F(AuthorizeAdmin, DirectoryFailurePassesThrough) {
  users.fail_with(unavailable("PostgreSQL: could not connect to server: Connection refused"));
  Result<Caller> r = authorize(bearer("valid:" + kAdminId));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(r.status().message(), Msg::kUnavailable.text());
  EXPECT_EQ(r.status().detail(), "PostgreSQL: could not connect to server: Connection refused");
}

}  // namespace
}  // namespace chatalot
