// The admin's user management over the fakes of fakes.h (SPEC section 3, "Admin users"): the
// list's query parameters, who may change the admin flag, who may suspend whom, and the reason.
#include "core/users.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "fakes.h"
#include "refused.h"

namespace chatalot {
namespace {

using testing::refused;
using testing::FakeClock;
using testing::FakeUserAdminStore;

constexpr std::string_view kRequestId = "req-3";


// --- user_query_from -----------------------------------------------------------------------

UserQuery query_of(std::string_view query_string) {
  Result<UserQuery> q = user_query_from(query_string);
  EXPECT_TRUE(q.is_ok()) << query_string << ": " << q.status().message();
  return q.is_ok() ? *q : UserQuery{};
}

TEST(UserQueryFrom, DefaultsWhenAbsent) {
  for (const char* qs : {"", "other=1", "&&", "=x", "searchx=a&limitx=7"}) {
    const UserQuery q = query_of(qs);
    EXPECT_EQ(q.search, "") << qs;
    EXPECT_EQ(q.limit, 50) << qs;
    EXPECT_EQ(q.offset, 0) << qs;
  }
}

TEST(UserQueryFrom, ReadsEveryParameter) {
  const UserQuery q = query_of("search=alice&limit=100&offset=1000000000");
  EXPECT_EQ(q.search, "alice");
  EXPECT_EQ(q.limit, 100);
  EXPECT_EQ(q.offset, 1000000000);
  EXPECT_EQ(query_of("limit=1").limit, 1);
  EXPECT_EQ(query_of("limit=07").limit, 7);
  EXPECT_EQ(query_of("limit=5&limit=9").limit, 9);  // the last of a repeated one
  EXPECT_EQ(query_of("search=").search, "");
  EXPECT_EQ(query_of("search").search, "");
}

TEST(UserQueryFrom, ALimitOutsideOneToAHundredIs400NamingLimit) {
  for (const char* qs :
       {"limit=0", "limit=101", "limit=abc", "limit=-1", "limit=", "limit", "limit=1.5", "limit=+5",
        "limit= 5", "limit=99999999999999999999", "limit=%35%35%35", "limit=5&limit=0"}) {
    EXPECT_TRUE(refused(user_query_from(qs), Code::kInvalidArgument, Msg::kLimitParam)) << qs;
  }
  EXPECT_EQ(std::string(Msg::kLimitParam.text()).rfind("limit ", 0), 0U);
}

TEST(UserQueryFrom, ANegativeOrHugeOrNonNumericOffsetIs400NamingOffset) {
  for (const char* qs : {"offset=-1", "offset=1000000001", "offset=x",
                         "offset=", "offset=99999999999999999999999"}) {
    EXPECT_TRUE(refused(user_query_from(qs), Code::kInvalidArgument, Msg::kOffsetParam)) << qs;
  }
  EXPECT_EQ(query_of("offset=0").offset, 0);
  EXPECT_EQ(std::string(Msg::kOffsetParam.text()).rfind("offset ", 0), 0U);
}

TEST(UserQueryFrom, SearchIsPercentDecodedWithPlusAsABlank) {
  EXPECT_EQ(query_of("search=Ana+Mar%C3%ADa").search, "Ana María");
  EXPECT_EQ(query_of("search=a%2Bb%26c%3Dd").search, "a+b&c=d");
  EXPECT_EQ(query_of("search=100%25").search, "100%");
  EXPECT_EQ(query_of("search=%e2%80%a6").search, "\xe2\x80\xa6");  // lower-case hex too
  EXPECT_EQ(query_of("se%61rch=bob").search, "bob");               // an encoded name too
  EXPECT_EQ(query_of("search=+bob+").search, "bob");               // trimmed
  // % and _ are plain text: no wildcard reaches the store.
  EXPECT_EQ(query_of("search=%25_").search, "%_");
}

TEST(UserQueryFrom, BrokenSearchIs400NamingSearch) {
  for (const char* qs :
       {"search=%", "search=%4", "search=%zz", "search=a%g1", "search=%C3", "search=%ff",
        "search=%ED%A0%80", "search=%C0%AF", "search=a%00b", "search=%00"}) {
    EXPECT_TRUE(refused(user_query_from(qs), Code::kInvalidArgument, Msg::kSearchParam)) << qs;
  }
  EXPECT_EQ(std::string(Msg::kSearchParam.text()).rfind("search ", 0), 0U);
}

TEST(UserQueryFrom, SearchIsAtMostAHundredCharacters) {
  std::string hundred_umlauts;
  for (int i = 0; i < 100; ++i) hundred_umlauts += "%C3%BC";
  EXPECT_EQ(query_of("search=" + hundred_umlauts).search.size(), 200U);
  EXPECT_TRUE(refused(user_query_from("search=" + hundred_umlauts + "a"), Code::kInvalidArgument,
                      Msg::kSearchParam));
  EXPECT_TRUE(refused(user_query_from("search=" + std::string(101, 'a')), Code::kInvalidArgument,
                      Msg::kSearchParam));
  EXPECT_EQ(query_of("search=" + std::string(100, 'a')).search.size(), 100U);
}

TEST(UserQueryFrom, TheFirstBadParameterIsNamed) {
  EXPECT_TRUE(refused(user_query_from("offset=-1&limit=0&search=%"), Code::kInvalidArgument,
                      Msg::kSearchParam));
  EXPECT_TRUE(
      refused(user_query_from("offset=-1&limit=0"), Code::kInvalidArgument, Msg::kLimitParam));
}

// --- suspension_reason ---------------------------------------------------------------------

TEST(SuspensionReason, AbsentOrNullIsNone) {
  for (const char* body : {"{}", R"({"reason":null})", R"({"other":1})"}) {
    Result<std::optional<std::string>> r = suspension_reason(body);
    ASSERT_TRUE(r.is_ok()) << body;
    EXPECT_EQ(*r, std::nullopt) << body;
  }
}

TEST(SuspensionReason, TextUpToFiveHundredCharacters) {
  Result<std::optional<std::string>> r = suspension_reason(R"({"reason":"spam, für immer"})");
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(*r, "spam, für immer");
  std::string umlauts;
  for (int i = 0; i < 500; ++i) umlauts += "\xc3\xbc";
  EXPECT_TRUE(suspension_reason(R"({"reason":")" + umlauts + R"("})").is_ok());
  EXPECT_TRUE(refused(suspension_reason(R"({"reason":")" + umlauts + R"(u"})"),
                      Code::kInvalidArgument, Msg::kReasonRange));
}

TEST(SuspensionReason, WrongTypesAndHostileTextAre400) {
  for (const char* body :
       {R"({"reason":5})", R"({"reason":true})", R"({"reason":["a"]})", R"({"reason":{}})"}) {
    EXPECT_TRUE(refused(suspension_reason(body), Code::kInvalidArgument, Msg::kReasonType)) << body;
  }
  for (const char* body :
       {R"({"reason":"a\nb"})", R"({"reason":"a\u0000b"})", R"({"reason":"\u001b[2J"})",
        R"({"reason":"a\u202eb"})", R"({"reason":"\u2066x\u2069"})", R"({"reason":"\u0085"})"}) {
    EXPECT_TRUE(refused(suspension_reason(body), Code::kInvalidArgument, Msg::kReasonRange))
        << body;
  }
  EXPECT_TRUE(refused(suspension_reason("{"), Code::kInvalidArgument, Msg::kBodyInvalidJson));
  EXPECT_TRUE(refused(suspension_reason("[]"), Code::kInvalidArgument, Msg::kBodyNotObject));
}

// --- The admin flag and suspension ---------------------------------------------------------

class UserAdmin : public ::testing::Test {
 protected:
  void SetUp() override {
    owner = users.add("olivia", true, true).id;
    admin = users.add("adam", true).id;
    other_admin = users.add("ada", true).id;
    member = users.add("mel").id;
  }

  Actor as(const std::string& id) {
    const Account* a = users.account(id);
    return Actor{id, a != nullptr && a->is_owner};
  }
  const Account& user(const std::string& id) { return *users.account(id); }

  FakeClock clock;
  FakeUserAdminStore users{clock};
  std::string owner, admin, other_admin, member;
};

TEST_F(UserAdmin, OnlyTheOwnerChangesTheAdminFlag) {
  EXPECT_TRUE(refused(set_admin(as(admin), member, true, kRequestId, users),
                      Code::kPermissionDenied, Msg::kOwnerOnlyChangesAdmins));
  EXPECT_TRUE(refused(set_admin(as(admin), other_admin, false, kRequestId, users),
                      Code::kPermissionDenied, Msg::kOwnerOnlyChangesAdmins));
  EXPECT_TRUE(refused(set_admin(as(admin), admin, false, kRequestId, users),
                      Code::kPermissionDenied, Msg::kOwnerOnlyChangesAdmins));
  EXPECT_TRUE(users.changes().empty());
  EXPECT_FALSE(user(member).is_admin);

  ASSERT_TRUE(set_admin(as(owner), member, true, kRequestId, users).is_ok());
  EXPECT_TRUE(user(member).is_admin);
  ASSERT_TRUE(set_admin(as(owner), admin, false, kRequestId, users).is_ok());
  EXPECT_FALSE(user(admin).is_admin);
  ASSERT_EQ(users.changes().size(), 2U);
  EXPECT_EQ(users.changes()[0].what, "admin");
  EXPECT_EQ(users.changes()[0].id, member);
  EXPECT_EQ(users.changes()[0].is_admin, true);
  EXPECT_EQ(users.changes()[0].actor, owner);
  EXPECT_EQ(users.changes()[0].request_id, kRequestId);
}

TEST_F(UserAdmin, TheShellHasTheOwnersPowers) {
  ASSERT_TRUE(set_admin(Actor::shell(), member, true, "", users).is_ok());
  EXPECT_TRUE(user(member).is_admin);
  ASSERT_EQ(users.changes().size(), 1U);
  EXPECT_EQ(users.changes()[0].actor, std::nullopt);  // audited as the shell
  EXPECT_TRUE(refused(set_admin(Actor::shell(), owner, false, "", users), Code::kPermissionDenied,
                      Msg::kOwnerAlwaysAdmin));
}

TEST_F(UserAdmin, TheOwnerIsAlwaysAnAdmin) {
  EXPECT_TRUE(refused(set_admin(as(owner), owner, false, kRequestId, users),
                      Code::kPermissionDenied, Msg::kOwnerAlwaysAdmin));
  EXPECT_TRUE(user(owner).is_admin);
  EXPECT_TRUE(users.changes().empty());
  EXPECT_TRUE(set_admin(as(owner), owner, true, kRequestId, users).is_ok());  // a no-op, allowed
  EXPECT_TRUE(user(owner).is_admin);
}

TEST_F(UserAdmin, AnUnknownOrMalformedIdIsNotFound) {
  for (const char* id : {"", "x", "44444444-0000-4000-8000-00000000000z", "'; DROP TABLE users"}) {
    EXPECT_TRUE(refused(set_admin(as(owner), id, true, kRequestId, users), Code::kNotFound,
                        Msg::kUserNotFound))
        << id;
    EXPECT_TRUE(refused(suspend_user(as(owner), id, std::nullopt, kRequestId, users),
                        Code::kNotFound, Msg::kUserNotFound))
        << id;
    EXPECT_TRUE(refused(unsuspend_user(as(owner), id, kRequestId, users), Code::kNotFound,
                        Msg::kUserNotFound))
        << id;
  }
  EXPECT_TRUE(users.lookups().empty());  // no store saw a malformed id
  const std::string unknown = testing::fake_uuid("44444444", 99);
  EXPECT_TRUE(refused(set_admin(as(owner), unknown, true, kRequestId, users), Code::kNotFound,
                      Msg::kUserNotFound));
  EXPECT_TRUE(refused(suspend_user(as(admin), unknown, std::nullopt, kRequestId, users),
                      Code::kNotFound, Msg::kUserNotFound));
  EXPECT_TRUE(users.changes().empty());
}

TEST_F(UserAdmin, AnAdminSuspendsAMember) {
  ASSERT_TRUE(suspend_user(as(admin), member, "spam", kRequestId, users).is_ok());
  EXPECT_TRUE(user(member).suspended_at.has_value());
  EXPECT_EQ(user(member).suspended_reason, "spam");
  ASSERT_EQ(users.changes().size(), 1U);
  EXPECT_EQ(users.changes()[0].what, "suspend");
  EXPECT_EQ(users.changes()[0].actor, admin);
  EXPECT_EQ(users.changes()[0].reason, "spam");
  ASSERT_TRUE(unsuspend_user(as(admin), member, kRequestId, users).is_ok());
  EXPECT_FALSE(user(member).suspended_at.has_value());
  EXPECT_EQ(users.changes().back().what, "unsuspend");
}

TEST_F(UserAdmin, TheOwnerCannotBeSuspendedByAnyone) {
  for (const Actor& actor : {as(admin), as(owner), Actor::shell()}) {
    EXPECT_TRUE(refused(suspend_user(actor, owner, "x", kRequestId, users), Code::kPermissionDenied,
                        Msg::kOwnerNotSuspendable));
  }
  EXPECT_FALSE(user(owner).suspended_at.has_value());
  EXPECT_TRUE(users.changes().empty());
}

TEST_F(UserAdmin, AnAdminIsSuspendedOnlyByTheOwnerOrTheShell) {
  EXPECT_TRUE(refused(suspend_user(as(admin), other_admin, std::nullopt, kRequestId, users),
                      Code::kPermissionDenied, Msg::kOwnerOnlySuspendsAdmins));
  EXPECT_TRUE(refused(suspend_user(as(admin), admin, std::nullopt, kRequestId, users),
                      Code::kPermissionDenied, Msg::kOwnerOnlySuspendsAdmins));
  EXPECT_TRUE(users.changes().empty());
  ASSERT_TRUE(suspend_user(as(owner), other_admin, std::nullopt, kRequestId, users).is_ok());
  EXPECT_TRUE(user(other_admin).suspended_at.has_value());
  EXPECT_EQ(user(other_admin).suspended_reason, std::nullopt);
  // Unsuspending an admin follows the same rule.
  EXPECT_TRUE(refused(unsuspend_user(as(admin), other_admin, kRequestId, users),
                      Code::kPermissionDenied, Msg::kOwnerOnlySuspendsAdmins));
  EXPECT_TRUE(user(other_admin).suspended_at.has_value());
  ASSERT_TRUE(unsuspend_user(Actor::shell(), other_admin, "", users).is_ok());
  EXPECT_FALSE(user(other_admin).suspended_at.has_value());
  ASSERT_TRUE(suspend_user(Actor::shell(), admin, "compromised", "", users).is_ok());
  EXPECT_EQ(users.changes().back().actor, std::nullopt);
}

TEST_F(UserAdmin, SuspendingAgainKeepsTheFirstTimeAndReplacesTheReason) {
  ASSERT_TRUE(suspend_user(as(admin), member, "spam", kRequestId, users).is_ok());
  const std::optional<std::string> first = user(member).suspended_at;
  clock.advance(3600);
  ASSERT_TRUE(suspend_user(as(admin), member, "still spam", kRequestId, users).is_ok());
  EXPECT_EQ(user(member).suspended_at, first);
  EXPECT_EQ(user(member).suspended_reason, "still spam");
}

TEST_F(UserAdmin, StoreFailuresPassThrough) {
  users.failures.find = unavailable("PostgreSQL: timeout");
  EXPECT_TRUE(refused(set_admin(as(owner), member, true, kRequestId, users), Code::kUnavailable,
                      Msg::kUnavailable));
  users.failures.find.reset();
  users.failures.change = unavailable("PostgreSQL: could not serialize access");
  const Status s = suspend_user(as(owner), member, std::nullopt, kRequestId, users);
  EXPECT_TRUE(refused(s, Code::kUnavailable, Msg::kUnavailable));
  EXPECT_EQ(s.detail(), "PostgreSQL: could not serialize access");
}

}  // namespace
}  // namespace chatalot
