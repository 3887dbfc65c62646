// The shared text helpers: strict UTF-8 (what may reach PostgreSQL and a hash), control and
// bidirectional characters, the terminal escaping of stored text, and the client's network.
#include "core/text.h"

#include <gtest/gtest.h>

#include "core/json.h"
#include "core/limits.h"

namespace chatalot {
namespace {

TEST(Utf8, AcceptsWellFormedText) {
  for (const char* s : {"", "abc", "für", "日本語", "\xF0\x9F\x98\x80", "\xEF\xBF\xBD"}) {
    EXPECT_TRUE(is_valid_utf8(s)) << s;
  }
}

TEST(Utf8, RefusesSurrogatesOverlongsAndStrayBytes) {
  // ED B0 80 is what RapidJSON makes of a lone "\udc00" (FIELD-NOTES pitfall 8).
  for (const char* s : {"ab\xED\xB0\x80", "\xED\xA0\x80", "\xC0\xAF", "\xE0\x80\xAF",
                        "\xF0\x80\x80\xAF", "\xF4\x90\x80\x80", "\x80", "\xFF", "abc\xE2\x82"}) {
    EXPECT_FALSE(is_valid_utf8(s)) << s;
  }
}

TEST(Json, ALoneSurrogateEscapeIsA400NamingItsField) {
  for (const char* field : {"display_name", "note", "invite_code", "username", "password"}) {
    const std::string body = std::string(R"({"a":"ok",")") + field + R"(":"ab\udc00"})";
    const Result<rapidjson::Document> doc = parse_json_object(body);
    ASSERT_FALSE(doc.is_ok()) << body;
    EXPECT_EQ(doc.status().code(), Code::kInvalidArgument);
    EXPECT_EQ(doc.status().message(), std::string(field) + " must be valid Unicode text");
  }
  // Deep inside a field (a one-time prekey) it is the top-level field that is named.
  EXPECT_EQ(parse_json_object(R"({"one_time_prekeys":[{"x":["\udfff"]}]})").status().message(),
            "one_time_prekeys must be valid Unicode text");
  // In a key, or under a name that cannot be shown, the body is refused as a whole.
  EXPECT_EQ(parse_json_object(R"({"\udc00":1})").status().message(), "request body must be valid UTF-8");
  // A proper pair is text.
  EXPECT_TRUE(parse_json_object(R"({"display_name":"\ud83d\ude00"})").is_ok());
}

// Found by fuzzing (tests/fuzz/regressions): RapidJSON stops at a NUL byte as if the input
// ended there, and skips byte order mark bytes one by one.
TEST(Json, ANulByteOrAByteOrderMarkIsNotJson) {
  for (const std::string& body :
       {std::string("{}\0{\"a\":1}", 10), std::string("{\"invite_code\":\"A\"}\0\xff", 20),
        std::string("\xBB{}"), std::string("\xEF\xBB\xBF{}")}) {
    EXPECT_EQ(parse_json_object(body).status().message(), "request body must be valid JSON") << body;
  }
}

TEST(Text, ControlAndBidiCharactersAreFound) {
  EXPECT_FALSE(has_control_or_bidi("a plain note, für Ana"));
  for (const char* s : {"a\tb", "a\x7f", "a\xC2\x85", "a\xE2\x80\xAE", "\xE2\x81\xA6x", "\xE2\x80\x8F"}) {
    EXPECT_TRUE(has_control_or_bidi(s)) << s;
  }
}

TEST(Text, TerminalEscapingShowsWhatWouldReorderOrControlTheScreen) {
  EXPECT_EQ(escape_for_terminal("für Ana"), "für Ana");
  EXPECT_EQ(escape_for_terminal("a\x1b[31mred"), "a\\u{001B}[31mred");
  EXPECT_EQ(escape_for_terminal("x\xE2\x80\xAEy"), "x\\u{202E}y");
  EXPECT_EQ(escape_for_terminal("back\\slash"), "back\\\\slash");
  EXPECT_EQ(escape_for_terminal("bad\xFF"), "bad\\x{FF}");
}

TEST(NetworkKey, GroupsIpv4By24AndIpv6By48) {
  EXPECT_EQ(network_key("192.0.2.7"), "ip4:192.0.2.0/24");
  EXPECT_EQ(network_key("192.0.2.7"), network_key("192.0.2.250"));
  EXPECT_NE(network_key("192.0.2.7"), network_key("192.0.3.7"));
  EXPECT_EQ(network_key("::ffff:192.0.2.7"), "ip4:192.0.2.0/24");
  EXPECT_EQ(network_key("2001:db8:1:2:aaaa::1"), "ip6:2001:db8:1::/48");
  EXPECT_EQ(network_key("2001:db8:1:ffff::1"), network_key("2001:db8:1:2::1"));
  EXPECT_NE(network_key("2001:db8:1::1"), network_key("2001:db8:2::1"));
  EXPECT_EQ(network_key("unix:"), "other:unix:");
}

}  // namespace
}  // namespace chatalot
