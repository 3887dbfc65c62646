#include "core/validation.h"
#include "core/text.h"
#include "crypto/ed25519.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "core/json.h"
#include "http/json_writer.h"
#include "crypto/openssl_ptr.h"
#include "../fixture.h"
#include "../test_keys.h"

namespace chatalot {
namespace {

const OpenSslKeyChecks kKeys;

using rapidjson::SizeType;
using rapidjson::Value;


using Pkey = PkeyPtr;

using testing::raw_public_key;
using testing::sign;

std::string bytes_json(std::string_view bytes) {
  std::string out = "[";
  for (const char c : bytes) {
    if (out.size() > 1) out += ',';
    out += std::to_string(static_cast<unsigned char>(c));
  }
  return out + "]";
}

// 32 bytes as JSON with one element replaced by raw JSON text.
std::string bytes_json_with(std::size_t index, const std::string& element) {
  std::string out = "[";
  for (std::size_t i = 0; i < 32; ++i) {
    if (i > 0) out += ',';
    out += i == index ? element : std::to_string(i);
  }
  return out + "]";
}

std::string prekeys_json(std::size_t count) {
  std::string out = "[";
  for (std::size_t i = 0; i < count; ++i) {
    if (i > 0) out += ',';
    out += R"({"key_id":)" + std::to_string(i + 1) + R"(,"public_key":)" +
           bytes_json(std::string(32, static_cast<char>(i))) + "}";
  }
  return out + "]";
}

std::string repeat(std::string_view s, std::size_t n) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i) out += s;
  return out;
}

// y = 2: (y^2 - 1) / (d y^2 + 1) is not a square mod p, so no x exists.
std::string point_not_on_curve() {
  std::string y(32, '\0');
  y[0] = 2;
  return y;
}

std::string message_of(const Status& status) { return status.is_ok() ? "" : status.message(); }

class RegistrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const Pkey identity(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    const Pkey prekey(EVP_PKEY_Q_keygen(nullptr, nullptr, "X25519"));
    ASSERT_TRUE(identity && prekey);
    identity_key_ = raw_public_key(identity.get());
    signed_prekey_ = raw_public_key(prekey.get());
    signature_ = sign(identity.get(), signed_prekey_);
  }

  void SetUp() override { reset_body(); }

  // A valid body in open and invite_only mode.
  void reset_body() {
    const std::string json = R"({"username":"alice_test","email":"alice@example.com",)"
                             R"("password":"Str0ng!Passw0rd","display_name":"Alice",)"
                             R"("invite_code":"ABCD-EFGH","identity_key":)" +
                             bytes_json(identity_key_) + R"(,"signed_prekey":{"key_id":7,)" +
                             R"("public_key":)" + bytes_json(signed_prekey_) + R"(,"signature":)" +
                             bytes_json(signature_) + R"(},"one_time_prekeys":)" + prekeys_json(2) +
                             "}";
    body_.Parse(json.c_str());
    ASSERT_FALSE(body_.HasParseError());
  }

  // Sets object[key] to the JSON text.
  void set_json(Value& object, const char* key, std::string_view json) {
    rapidjson::Document fragment;
    fragment.Parse(json.data(), json.size());
    ASSERT_FALSE(fragment.HasParseError()) << json;
    Value copy(fragment, body_.GetAllocator());
    object.RemoveMember(key);
    object.AddMember(Value(key, body_.GetAllocator()), copy, body_.GetAllocator());
  }
  void set_json(const char* key, std::string_view json) { set_json(body_, key, json); }
  void set_string(const char* key, std::string_view text) {
    body_.RemoveMember(key);
    body_.AddMember(Value(key, body_.GetAllocator()),
                    Value(text.data(), static_cast<SizeType>(text.size()), body_.GetAllocator()),
                    body_.GetAllocator());
  }
  void remove(const char* key) { body_.RemoveMember(key); }
  Value& signed_prekey() { return body_["signed_prekey"]; }

  // The failure message, or "" when the body is valid.
  std::string validate(RegistrationMode mode = RegistrationMode::kOpen) {
    const Result<RegistrationInput> result = validate_registration(body_, mode, kKeys);
    return result.is_ok() ? "" : result.status().message();
  }

  // Runs each case through the single-field check and through the whole body.
  struct Case {
    std::string value;
    std::string expected;  // "" when valid
  };
  void expect_cases(const char* key, Status (*check)(std::string_view),
                    const std::vector<Case>& cases) {
    for (const Case& c : cases) {
      EXPECT_EQ(message_of(check(c.value)), c.expected) << key << " = \"" << c.value << "\"";
      set_string(key, c.value);
      EXPECT_EQ(validate(), c.expected) << key << " = \"" << c.value << "\"";
    }
  }

  static std::string identity_key_;
  static std::string signed_prekey_;
  static std::string signature_;
  rapidjson::Document body_;
};

std::string RegistrationTest::identity_key_;
std::string RegistrationTest::signed_prekey_;
std::string RegistrationTest::signature_;

// ---- Whole bodies ----------------------------------------------------------------------------

TEST_F(RegistrationTest, ValidBodyIsCopiedOut) {
  const Result<RegistrationInput> result = validate_registration(body_, RegistrationMode::kOpen, kKeys);
  ASSERT_TRUE(result.is_ok()) << result.status().describe();
  EXPECT_EQ(result->username, "alice_test");
  EXPECT_EQ(result->email, "alice@example.com");
  EXPECT_EQ(result->password, "Str0ng!Passw0rd");
  EXPECT_EQ(result->display_name, "Alice");
  EXPECT_EQ(result->invite_code, "");  // ignored in open mode
  EXPECT_EQ(std::string(result->identity_key.begin(), result->identity_key.end()), identity_key_);
  EXPECT_EQ(result->signed_prekey_id, 7U);
  EXPECT_EQ(std::string(result->signed_prekey.begin(), result->signed_prekey.end()),
            signed_prekey_);
  EXPECT_EQ(
      std::string(result->signed_prekey_signature.begin(), result->signed_prekey_signature.end()),
      signature_);
  ASSERT_EQ(result->one_time_prekeys.size(), 2U);
  EXPECT_EQ(result->one_time_prekeys[1].key_id, 2U);
  EXPECT_EQ(result->one_time_prekeys[1].public_key[0], 1U);
}

TEST_F(RegistrationTest, UnknownFieldsAreIgnored) {
  set_json("avatar_url", R"({"nested":[1,2,{"x":null}]})");
  set_json("is_admin", "true");
  EXPECT_EQ(validate(), "");
}

TEST_F(RegistrationTest, ChatalotClientRequestValidates) {
  const std::string text = testing::client_register_request();
  ASSERT_GT(text.size(), 40000U) << testing::fixture_path("chatalot-client-register-request.json");
  const Result<rapidjson::Document> doc = parse_json_object(text);
  ASSERT_TRUE(doc.is_ok()) << doc.status().describe();

  const Result<RegistrationInput> invited =
      validate_registration(*doc, RegistrationMode::kInviteOnly, kKeys);
  ASSERT_TRUE(invited.is_ok()) << invited.status().describe();
  EXPECT_EQ(invited->username, "alice_test");
  EXPECT_EQ(invited->display_name, "Alice Test");
  EXPECT_EQ(invited->invite_code, "INVITE-1234");
  EXPECT_EQ(invited->signed_prekey_id, 1U);
  EXPECT_EQ(invited->identity_key[0], 117U);
  EXPECT_EQ(invited->one_time_prekeys.size(), 100U);

  const Result<RegistrationInput> open = validate_registration(*doc, RegistrationMode::kOpen, kKeys);
  ASSERT_TRUE(open.is_ok()) << open.status().describe();
  EXPECT_EQ(open->invite_code, "");
}

// ---- Step 1-2: mode and invite ---------------------------------------------------------------

TEST_F(RegistrationTest, ClosedModeBeatsEverything) {
  EXPECT_EQ(validate(RegistrationMode::kClosed), "registration is currently disabled");
  body_.SetObject();
  EXPECT_EQ(validate(RegistrationMode::kClosed), "registration is currently disabled");
  body_.SetArray();
  EXPECT_EQ(validate(RegistrationMode::kClosed), "registration is currently disabled");
}

TEST_F(RegistrationTest, BodyMustBeAnObject) {
  body_.SetArray();
  EXPECT_EQ(validate(), "request body must be a JSON object");
}

TEST_F(RegistrationTest, InviteOnlyRequiresAnInviteCode) {
  constexpr const char* kRequired = "an invite code is required to register";
  remove("invite_code");
  EXPECT_EQ(validate(RegistrationMode::kInviteOnly), kRequired);
  for (const char* json : {"null", R"("")", R"("   ")", R"("\t\n")", R"("\u00a0\u3000")"}) {
    set_json("invite_code", json);
    EXPECT_EQ(validate(RegistrationMode::kInviteOnly), kRequired) << json;
  }
  for (const char* json : {"123", "true", "[]", R"({"code":"x"})"}) {
    set_json("invite_code", json);
    EXPECT_EQ(validate(RegistrationMode::kInviteOnly), "invite_code must be a string") << json;
  }
  set_json("invite_code", R"("AB\u0000CD")");
  EXPECT_EQ(validate(RegistrationMode::kInviteOnly), "invite code must not contain NUL characters");
}

TEST_F(RegistrationTest, InviteCodeIsKeptAsSent) {
  set_string("invite_code", " abcd-EFGH ");
  const Result<RegistrationInput> result =
      validate_registration(body_, RegistrationMode::kInviteOnly, kKeys);
  ASSERT_TRUE(result.is_ok()) << result.status().describe();
  EXPECT_EQ(result->invite_code, " abcd-EFGH ");
}

TEST_F(RegistrationTest, OpenModeIgnoresInviteCode) {
  for (const char* json : {"123", "null", R"("")", R"("AB\u0000CD")"}) {
    set_json("invite_code", json);
    EXPECT_EQ(validate(RegistrationMode::kOpen), "") << json;
  }
  remove("invite_code");
  EXPECT_EQ(validate(RegistrationMode::kOpen), "");
}

TEST_F(RegistrationTest, InviteIsCheckedBeforeUsername) {
  remove("invite_code");
  set_string("username", "_");
  EXPECT_EQ(validate(RegistrationMode::kInviteOnly), "an invite code is required to register");
}

// ---- Steps 3-5: username, email, password ---------------------------------------------------

TEST_F(RegistrationTest, TextFieldsMustBeStrings) {
  const std::vector<std::pair<const char*, std::string>> fields = {
      {"username", "username must be a string"},
      {"email", "email must be a string"},
      {"password", "password must be a string"},
  };
  for (const auto& [key, expected] : fields) {
    reset_body();
    remove(key);
    EXPECT_EQ(validate(), expected) << key << " absent";
    for (const char* json : {"null", "42", "true", R"(["a@b.c"])", R"({"x":"Aa1!aaaa"})"}) {
      set_json(key, json);
      EXPECT_EQ(validate(), expected) << key << " = " << json;
    }
  }
}

TEST_F(RegistrationTest, UsernameRulesInOrder) {
  constexpr const char* kLength = "username must be between 3 and 32 characters";
  constexpr const char* kCharset =
      "username may only contain letters, numbers, underscores, hyphens, and dots";
  constexpr const char* kStart = "username must start with a letter or number";
  constexpr const char* kEndDot = "username must not end with a dot";
  constexpr const char* kDots = "username must not contain consecutive dots";
  expect_cases("username", check_username,
               {
                   {"abc", ""},
                   {"A_b-c.d9", ""},
                   {"9lives", ""},
                   {"a.b.c", ""},
                   {std::string(32, 'a'), ""},
                   {"", kLength},
                   {"ab", kLength},
                   {std::string(33, 'a'), kLength},
                   {"\xC3\xA9\xC3\xA9", kLength},           // 2 code points, 4 bytes
                   {repeat("\xC3\xA9", 17), kCharset},      // 17 code points, 34 bytes
                   {"\xC3\xA9\xC3\xA9\xC3\xA9", kCharset},  // 3 code points
                   {"ab c", kCharset},
                   {"ab@c", kCharset},
                   {"_é_", kCharset},
                   {"_abc", kStart},
                   {"-abc", kStart},
                   {".abc", kStart},
                   {"...", kStart},
                   {"_ab.", kStart},
                   {"abc.", kEndDot},
                   {"a..b.", kEndDot},
                   {"a..b", kDots},
                   {std::string("ab\0c", 4), "username must not contain NUL characters"},
               });
}

TEST_F(RegistrationTest, EmailFollowsWhatwgGrammar) {
  constexpr const char* kInvalid = "invalid email format";
  const std::string label63(63, 'x');
  expect_cases("email", check_email,
               {
                   {"a@b", ""},
                   {"a@b.c", ""},
                   {"first.last+tag@sub.example.co", ""},
                   {"!#$%&'*+/=?^_`{|}~-@example.com", ""},
                   {".a..b.@example.com", ""},  // the grammar allows dots anywhere locally
                   {"a@xn--bcher-kva.example", ""},
                   {"a@1.2.3.4", ""},
                   {"a@b-c.d", ""},
                   {"a@" + label63 + ".com", ""},
                   {"a@" + label63 + "x.com", kInvalid},
                   {"a@" + label63, ""},
                   {"a@" + label63 + "x", kInvalid},
                   {"a@-b.c", kInvalid},
                   {"a@b-.c", kInvalid},
                   {"a@b.-c", kInvalid},
                   {"a@b..c", kInvalid},
                   {"a@.b", kInvalid},
                   {"a@b.", kInvalid},
                   {"a@", kInvalid},
                   {"@b.c", kInvalid},
                   {"a", kInvalid},
                   {"", kInvalid},
                   {"a@b@c", kInvalid},
                   {"a@@b", kInvalid},
                   {"\"a\"@b.c", kInvalid},
                   {"\"a b\"@example.com", kInvalid},
                   {"a b@c", kInvalid},
                   {"a@b_c.d", kInvalid},
                   {"a@[127.0.0.1]", kInvalid},
                   {"\xC3\xBC@b.c", kInvalid},   // ü in the local part
                   {"a@b\xC3\xBC.c", kInvalid},  // ü in the domain
                   {"a@b.c\n", kInvalid},
                   {std::string(250, 'a') + "@b.c", ""},  // 254 bytes
                   {std::string(251, 'a') + "@b.c", "email too long"},
                   {std::string(255, '@'), "email too long"},  // length comes before format
                   {std::string("a\0@b.c", 6), "email must not contain NUL characters"},
               });
}

TEST_F(RegistrationTest, HugeEmailIsRejectedWithoutTrouble) {
  EXPECT_EQ(message_of(check_email(std::string(1 << 20, 'a'))), "email too long");
  EXPECT_EQ(message_of(check_email(std::string(200, 'a') + "@" + std::string(50, 'b'))), "");
}

TEST_F(RegistrationTest, PasswordRulesCountCodePoints) {
  constexpr const char* kShort = "password must be at least 8 characters";
  constexpr const char* kLong = "password must be at most 128 characters";
  const std::string e_acute = "\xC3\xA9";
  expect_cases("password", check_password,
               {
                   {"Str0ng!Passw0rd", ""},
                   {"Aa1!aaaa", ""},
                   {"Aa1 aaaa", ""},                   // a blank is a special character
                   {"Aa1!" + repeat(e_acute, 5), ""},  // 9 code points, 14 bytes
                   {repeat(e_acute, 7), kShort},       // 7 code points, 14 bytes
                   {"Aa1!aaa", kShort},
                   {"", kShort},
                   {"aaaa", kShort},
                   {"Aa1!" + std::string(124, 'a'), ""},
                   {"Aa1!" + std::string(125, 'a'), kLong},
                   {"Aa1!" + repeat(e_acute, 124), ""},  // 128 code points, 252 bytes
                   {"Aa1!" + repeat(e_acute, 125), kLong},
                   {"aa1!aaaa", "password must contain at least one uppercase letter"},
                   {"ÄÖ1!aaaa", "password must contain at least one uppercase letter"},
                   {repeat(e_acute, 9), "password must contain at least one uppercase letter"},
                   {"AA1!AAAA", "password must contain at least one lowercase letter"},
                   {"Aaa!aaaa", "password must contain at least one digit"},
                   {"Aa1aaaaa", "password must contain at least one special character"},
                   {"Aa1" + e_acute + "aaaa", ""},  // any non-ASCII code point is special
                   {std::string("Aa1!aaaa\0", 9), "password must not contain NUL characters"},
               });
}

TEST(CountCodePointsTest, CountsCodePointsNotBytes) {
  EXPECT_EQ(count_code_points(""), 0U);
  EXPECT_EQ(count_code_points("abc"), 3U);
  EXPECT_EQ(count_code_points("\xC3\xA9"), 1U);
  EXPECT_EQ(count_code_points("\xE6\x97\xA5\xE6\x9C\xAC"), 2U);  // 日本
  EXPECT_EQ(count_code_points("\xF0\x9F\x98\x80!"), 2U);         // emoji, then !
  EXPECT_EQ(count_code_points(std::string("a\0b", 3)), 3U);
}

// ---- Step 6: display name --------------------------------------------------------------------

TEST_F(RegistrationTest, DisplayNameDefaultsToUsernameAndIsTrimmed) {
  const auto display_name = [this] {
    const Result<RegistrationInput> result = validate_registration(body_, RegistrationMode::kOpen, kKeys);
    return result.is_ok() ? result->display_name : "error: " + result.status().message();
  };
  remove("display_name");
  EXPECT_EQ(display_name(), "alice_test");
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"null", "alice_test"},
      {R"("")", "alice_test"},
      {R"("   ")", "alice_test"},
      {R"("\t\r\n ")", "alice_test"},
      {R"("\u00a0\u3000\u2003")", "alice_test"},
      {R"("  Alice  ")", "Alice"},
      {R"("\u3000Alice\u00a0")", "Alice"},
      {R"("\u2009Alice Smith\u205f")", "Alice Smith"},
      {R"("Alice\n")", "Alice"},
      {R"("日本語の名前")", "日本語の名前"},
  };
  for (const auto& [json, expected] : cases) {
    set_json("display_name", json);
    EXPECT_EQ(display_name(), expected) << json;
  }
}

TEST_F(RegistrationTest, DisplayNameLimits) {
  constexpr const char* kBad = "display name must be 1-64 characters";
  const std::string e_acute = "\xC3\xA9";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {repeat(e_acute, 64), ""},  // 64 code points, 128 bytes
      {repeat(e_acute, 65), kBad},
      {std::string(64, 'a'), ""},
      {"  " + std::string(64, 'a') + "  ", ""},  // counted after trimming
      {std::string(65, 'a'), kBad},
      {"Al\tice", kBad},
      {"Al\nice", kBad},
      {"Alice\x7F", kBad},
      {"Al\xC2\x85ice", kBad},  // U+0085, C1
      {"Al\xC2\x9Fice", kBad},  // U+009F, C1
      {"Al\x1B[31mice", kBad},
      {std::string("Al\0ice", 6), "display name must not contain NUL characters"},
  };
  for (const auto& [value, expected] : cases) {
    set_string("display_name", value);
    EXPECT_EQ(validate(), expected) << value;
  }
  for (const char* json : {"42", "true", R"(["Alice"])", R"({"name":"Alice"})"}) {
    set_json("display_name", json);
    EXPECT_EQ(validate(), "display name must be a string") << json;
  }
}

// ---- Step 6: keys ----------------------------------------------------------------------------

TEST_F(RegistrationTest, IdentityKeyShape) {
  constexpr const char* kSize = "identity key must be 32 bytes";
  constexpr const char* kBytes = "identity key bytes must be integers between 0 and 255";
  remove("identity_key");
  EXPECT_EQ(validate(), kSize);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"null", kSize},
      {R"("dXNlIGFuIGFycmF5")", kSize},
      {"{}", kSize},
      {"[]", kSize},
      {bytes_json(std::string(31, 'a')), kSize},
      {bytes_json(std::string(33, 'a')), kSize},
      {bytes_json_with(5, "256"), kBytes},
      {bytes_json_with(5, "-1"), kBytes},
      {bytes_json_with(5, "1.5"), kBytes},
      {bytes_json_with(5, "1.0"), kBytes},
      {bytes_json_with(5, "1e1"), kBytes},
      {bytes_json_with(5, R"("1")"), kBytes},
      {bytes_json_with(5, "null"), kBytes},
      {bytes_json_with(5, "true"), kBytes},
      {bytes_json_with(31, "[1]"), kBytes},
  };
  for (const auto& [json, expected] : cases) {
    set_json("identity_key", json);
    EXPECT_EQ(validate(), expected) << json;
  }
}

TEST_F(RegistrationTest, SignedPrekeyShape) {
  remove("signed_prekey");
  EXPECT_EQ(validate(), "signed prekey must be an object");
  for (const char* json : {"null", "[]", "7", R"("key")"}) {
    set_json("signed_prekey", json);
    EXPECT_EQ(validate(), "signed prekey must be an object") << json;
  }
}

TEST_F(RegistrationTest, SignedPrekeyFields) {
  constexpr const char* kId = "signed prekey id must be an integer between 0 and 4294967295";
  const std::string valid_public_key = bytes_json(signed_prekey_);
  const std::string valid_signature = bytes_json(signature_);
  struct FieldCase {
    const char* key;
    std::string json;  // "" removes the field
    std::string expected;
  };
  const std::vector<FieldCase> cases = {
      {"key_id", "0", ""},
      {"key_id", "4294967295", ""},
      {"key_id", "", kId},
      {"key_id", "null", kId},
      {"key_id", "-1", kId},
      {"key_id", "4294967296", kId},
      {"key_id", "1.5", kId},
      {"key_id", "1.0", kId},
      {"key_id", R"("1")", kId},
      {"public_key", "", "signed prekey must be 32 bytes"},
      {"public_key", bytes_json(std::string(31, 'a')), "signed prekey must be 32 bytes"},
      {"public_key", bytes_json_with(0, "300"),
       "signed prekey bytes must be integers between 0 and 255"},
      {"signature", "", "signed prekey signature must be 64 bytes"},
      {"signature", bytes_json(signature_.substr(0, 63)),
       "signed prekey signature must be 64 bytes"},
      {"signature", bytes_json(signature_ + 'x'), "signed prekey signature must be 64 bytes"},
      {"signature", "[" + repeat("0,", 63) + "-3]",
       "signed prekey signature bytes must be integers between 0 and 255"},
  };
  for (const FieldCase& c : cases) {
    reset_body();
    if (c.json.empty()) {
      signed_prekey().RemoveMember(c.key);
    } else {
      set_json(signed_prekey(), c.key, c.json);
    }
    EXPECT_EQ(validate(), c.expected) << c.key << " = " << c.json;
  }
}

TEST_F(RegistrationTest, IdentityKeyMustBeACurvePoint) {
  set_json("identity_key", bytes_json(point_not_on_curve()));
  EXPECT_EQ(validate(), "invalid identity key");
  std::string non_canonical(32, '\xFF');  // y = 2^255 - 1 >= p
  non_canonical[31] = '\x7F';
  set_json("identity_key", bytes_json(non_canonical));
  EXPECT_EQ(validate(), "invalid identity key");
  // The identity point decodes, but is no one's key: refused too.
  std::string identity(32, '\0');
  identity[0] = '\x01';
  set_json("identity_key", bytes_json(identity));
  EXPECT_EQ(validate(), "invalid identity key");
}

TEST_F(RegistrationTest, SignedPrekeySignatureMustVerify) {
  constexpr const char* kFailed = "signed prekey signature verification failed";
  std::string flipped = signature_;
  flipped[10] = static_cast<char>(flipped[10] ^ 0x04);
  set_json(signed_prekey(), "signature", bytes_json(flipped));
  EXPECT_EQ(validate(), kFailed);

  reset_body();
  std::string other_prekey = signed_prekey_;
  other_prekey[0] = static_cast<char>(other_prekey[0] ^ 0x01);
  set_json(signed_prekey(), "public_key", bytes_json(other_prekey));
  EXPECT_EQ(validate(), kFailed);

  reset_body();
  const Pkey stranger(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  set_json(signed_prekey(), "signature", bytes_json(sign(stranger.get(), signed_prekey_)));
  EXPECT_EQ(validate(), kFailed);
}

TEST_F(RegistrationTest, OneTimePrekeysOptionalAndBounded) {
  const auto count = [this] {
    const Result<RegistrationInput> result = validate_registration(body_, RegistrationMode::kOpen, kKeys);
    return result.is_ok() ? result->one_time_prekeys.size() : SIZE_MAX;
  };
  remove("one_time_prekeys");
  EXPECT_EQ(count(), 0U);
  set_json("one_time_prekeys", "null");
  EXPECT_EQ(count(), 0U);
  set_json("one_time_prekeys", "[]");
  EXPECT_EQ(count(), 0U);
  set_json("one_time_prekeys", prekeys_json(200));
  EXPECT_EQ(count(), 200U);
  set_json("one_time_prekeys", prekeys_json(201));
  EXPECT_EQ(validate(), "too many one-time prekeys (at most 200)");
  for (const char* json : {"{}", R"("keys")", "1"}) {
    set_json("one_time_prekeys", json);
    EXPECT_EQ(validate(), "one-time prekeys must be an array") << json;
  }
}

TEST_F(RegistrationTest, OneTimePrekeyEntries) {
  constexpr const char* kId = "one-time prekey id must be an integer between 0 and 4294967295";
  const std::string key = bytes_json(std::string(32, 'k'));
  const auto entry = [&key](const std::string& id) {
    return R"({"key_id":)" + id + R"(,"public_key":)" + key + "}";
  };
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[" + entry("0") + "," + entry("4294967295") + "]", ""},
      {"[" + entry("1") + ",5]", "one-time prekey must be an object"},
      {"[null]", "one-time prekey must be an object"},
      {"[[1]]", "one-time prekey must be an object"},
      {R"([{"public_key":)" + key + "}]", kId},
      {"[" + entry("-1") + "]", kId},
      {"[" + entry("4294967296") + "]", kId},
      {"[" + entry("2.5") + "]", kId},
      {"[" + entry(R"("3")") + "]", kId},
      {R"([{"key_id":1}])", "one-time prekey must be 32 bytes"},
      {R"([{"key_id":1,"public_key":[1,2,3]}])", "one-time prekey must be 32 bytes"},
      {R"([{"key_id":1,"public_key":)" + bytes_json_with(4, "256") + "}]",
       "one-time prekey bytes must be integers between 0 and 255"},
      {"[" + entry("9") + "," + entry("10") + "," + entry("9") + "]",
       "duplicate one-time prekey id"},
  };
  for (const auto& [json, expected] : cases) {
    set_json("one_time_prekeys", json);
    EXPECT_EQ(validate(), expected) << json;
  }
}

// ---- The order of the steps -------------------------------------------------------------------

TEST_F(RegistrationTest, EarlierCheckWins) {
  struct OrderCase {
    const char* earlier_key;
    std::string earlier_json;
    const char* later_key;
    std::string later_json;
    std::string expected;
  };
  const std::vector<OrderCase> cases = {
      {"username", R"("_bad")", "email", R"("not an email")",
       "username must start with a letter or number"},
      {"email", R"("a@b..c")", "password", R"("short")", "invalid email format"},
      {"password", R"("short")", "display_name", R"("a\tb")",
       "password must be at least 8 characters"},
      {"display_name", R"("a\tb")", "identity_key", "[1,2,3]",
       "display name must be 1-64 characters"},
      {"identity_key", "[1,2,3]", "signed_prekey", "null", "identity key must be 32 bytes"},
      // The curve check comes after every shape check.
      {"identity_key", bytes_json(point_not_on_curve()), "signed_prekey", "null",
       "signed prekey must be an object"},
      {"username", R"("ab")", "password", "null", "username must be between 3 and 32 characters"},
      {"email", "7", "password", "7", "email must be a string"},
  };
  for (const OrderCase& c : cases) {
    reset_body();
    set_json(c.earlier_key, c.earlier_json);
    set_json(c.later_key, c.later_json);
    EXPECT_EQ(validate(), c.expected) << c.earlier_key << " then " << c.later_key;
  }
}

TEST_F(RegistrationTest, SignatureIsCheckedBeforeOneTimePrekeys) {
  std::string flipped = signature_;
  flipped[0] = static_cast<char>(flipped[0] ^ 0x80);
  set_json(signed_prekey(), "signature", bytes_json(flipped));
  set_json("one_time_prekeys", "{}");
  EXPECT_EQ(validate(), "signed prekey signature verification failed");
}

TEST_F(RegistrationTest, InvalidIdentityKeyIsCheckedBeforeSignature) {
  set_json("identity_key", bytes_json(point_not_on_curve()));
  set_json("one_time_prekeys", "{}");
  EXPECT_EQ(validate(), "invalid identity key");
}

TEST_F(RegistrationTest, AllNulMessages) {
  const std::vector<std::pair<const char*, std::string>> fields = {{"username", "username"},
                                                                   {"email", "email"},
                                                                   {"password", "password"},
                                                                   {"display_name", "display name"},
                                                                   {"invite_code", "invite code"}};
  for (const auto& [key, name] : fields) {
    reset_body();
    set_json(key, R"("\u0000")");
    EXPECT_EQ(validate(RegistrationMode::kInviteOnly), name + " must not contain NUL characters");
  }
}

}  // namespace
}  // namespace chatalot
