// query_parameter() (core/query.h): one parameter of a raw query string, decoded as
// application/x-www-form-urlencoded, without trusting the rest of the string.
#include "core/query.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <string_view>

namespace chatalot {
namespace {

constexpr Message kBad = Msg::kIncludeRevokedParam;

std::optional<std::string> value_of(std::string_view query_string, std::string_view name) {
  Result<std::optional<std::string>> r = query_parameter(query_string, name, kBad);
  EXPECT_TRUE(r.is_ok()) << query_string << ": " << r.status().message();
  return r.is_ok() ? *r : std::nullopt;
}

bool is_refused(std::string_view query_string, std::string_view name) {
  Result<std::optional<std::string>> r = query_parameter(query_string, name, kBad);
  return !r.is_ok() && r.status().code() == Code::kInvalidArgument &&
         r.status().message() == kBad.text();
}

TEST(QueryParameter, AbsentIsNoneAndWithoutAValueIsEmpty) {
  EXPECT_EQ(value_of("", "a"), std::nullopt);
  EXPECT_EQ(value_of("b=1&ab=2&a_=3", "a"), std::nullopt);  // whole names only
  EXPECT_EQ(value_of("a", "a"), "");
  EXPECT_EQ(value_of("a=", "a"), "");
  EXPECT_EQ(value_of("b=1&a&c=3", "a"), "");
}

TEST(QueryParameter, DecodesEscapesAndPlus) {
  EXPECT_EQ(value_of("a=x+y%20z", "a"), "x y z");
  EXPECT_EQ(value_of("a=%2B%26%3D%25", "a"), "+&=%");
  EXPECT_EQ(value_of("a=b=c", "a"), "b=c");  // only the first '=' separates
  EXPECT_EQ(value_of("%61=1", "a"), "1");    // the name is decoded too
  EXPECT_EQ(value_of("a=%C3%A9", "a"), "\xc3\xa9");
}

TEST(QueryParameter, TheLastOfARepeatedOneCounts) {
  EXPECT_EQ(value_of("a=1&a=2&a=3", "a"), "3");
  EXPECT_EQ(value_of("a=1&b=2&a", "a"), "");
}

TEST(QueryParameter, BrokenEscapesAndTextThatIsNoUtf8AreRefusedWithTheGivenMessage) {
  for (const char* qs : {"a=%", "a=%2", "a=%2x", "a=%%", "a=x%", "a=%FF", "a=%C3", "a=%ED%A0%80",
                         "a=%F4%90%80%80"}) {
    EXPECT_TRUE(is_refused(qs, "a")) << qs;
  }
}

TEST(QueryParameter, OtherParametersCannotSpoilThisOne) {
  EXPECT_EQ(value_of("b=%zz&a=1", "a"), "1");      // a broken value elsewhere
  EXPECT_EQ(value_of("%zz=1&a=2", "a"), "2");      // a name that cannot be decoded is skipped
  EXPECT_EQ(value_of("%FF=1&a=2&&=&", "a"), "2");  // empty pairs too
}

}  // namespace
}  // namespace chatalot
