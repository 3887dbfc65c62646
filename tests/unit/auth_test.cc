// The admin API's bearer tokens over the fakes of fakes.h: the Authorization header's shape,
// the verifier's answers, and the directory's word on the user's roles, asked on every request.
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

class AuthorizeAdmin : public ::testing::Test {
 protected:
  void SetUp() override {
    users.set(kAdminId, Roles{true, false});
    users.set(kOwnerId, Roles{false, true});
    users.set(kMemberId, Roles{false, false});
  }

  Result<std::string> authorize(std::string_view header) { return authorize_admin(header, deps); }

  ::testing::AssertionResult refused(std::string_view header, Code code, Message message) {
    Result<std::string> r = authorize(header);
    if (r.is_ok()) return ::testing::AssertionFailure() << "authorised " << *r;
    if (r.status().code() != code || r.status().message() != message.text()) {
      return ::testing::AssertionFailure() << "code " << static_cast<int>(r.status().code())
                                           << " message \"" << r.status().message() << "\"";
    }
    return ::testing::AssertionSuccess();
  }

  FakeVerifier verifier;
  FakeClock clock;
  FakeUserDirectory users;
  AuthDeps deps{verifier, clock, users};
};

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

TEST_F(AuthorizeAdmin, AdminOrOwnerIsTheirId) {
  Result<std::string> admin = authorize(bearer("valid:" + kAdminId));
  ASSERT_TRUE(admin.is_ok()) << admin.status().message();
  EXPECT_EQ(*admin, kAdminId);
  Result<std::string> owner = authorize(bearer("valid:" + kOwnerId));
  ASSERT_TRUE(owner.is_ok()) << owner.status().message();
  EXPECT_EQ(*owner, kOwnerId);
}

TEST_F(AuthorizeAdmin, RolesAreAskedOnEveryRequestSoDemotionTakesEffectAtOnce) {
  ASSERT_TRUE(authorize(bearer("valid:" + kAdminId)).is_ok());
  users.set(kAdminId, Roles{false, false});
  EXPECT_TRUE(refused(bearer("valid:" + kAdminId), Code::kPermissionDenied, Msg::kAdminRequired));
  EXPECT_EQ(users.asked().size(), 2U);
}

TEST_F(AuthorizeAdmin, DirectoryFailurePassesThrough) {
  users.fail_with(unavailable("PostgreSQL: could not connect to server: Connection refused"));
  Result<std::string> r = authorize(bearer("valid:" + kAdminId));
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable);
  EXPECT_EQ(r.status().message(), Msg::kUnavailable.text());
  EXPECT_EQ(r.status().detail(), "PostgreSQL: could not connect to server: Connection refused");
}

}  // namespace
}  // namespace chatalot
