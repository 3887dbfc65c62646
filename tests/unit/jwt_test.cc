#include "crypto/jwt.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace chatalot {
namespace {

constexpr std::int64_t kNow = 1'700'000'000;
constexpr std::int64_t kLeeway = 60;

AccessClaims sample_claims() {
  AccessClaims c;
  c.sub = "3f0b8c2e-6d1a-4c5e-9a7b-1e2d3c4b5a69";
  c.username = "alice";
  c.is_admin = true;
  c.is_owner = false;
  c.iat = kNow;
  c.exp = kNow + kAccessTokenSeconds;
  c.jti = "9b1e7f3a-2c4d-4e5f-8a9b-0c1d2e3f4a5b";
  return c;
}

std::vector<std::string> split(const std::string& token) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot; (dot = token.find('.', start)) != std::string::npos; start = dot + 1) {
    parts.push_back(token.substr(start, dot - start));
  }
  parts.push_back(token.substr(start));
  return parts;
}

std::string decoded(const std::string& part) {
  Result<std::string> r = base64url_decode(part);
  return r.is_ok() ? *r : "<not base64url>";
}

// A correctly signed token around arbitrary header and payload JSON, to show that the checks
// after the signature hold on their own.
std::string signed_token(const Ed25519Key& key, std::string_view header, std::string_view payload) {
  const std::string input = base64url_encode(header) + "." + base64url_encode(payload);
  Result<std::string> signature = key.sign(input);
  EXPECT_TRUE(signature.is_ok());
  return input + "." + (signature.is_ok() ? base64url_encode(*signature) : "");
}

constexpr std::string_view kGoodHeader = R"({"alg":"EdDSA","typ":"JWT"})";

std::string payload_with(std::string_view replace, std::string_view with) {
  std::string p =
      R"({"sub":"u1","username":"alice","is_admin":false,"is_owner":false,"iat":1700000000,)"
      R"("exp":1700000900,"jti":"j1","aud":"chatalot"})";
  if (!replace.empty()) p.replace(p.find(replace), replace.size(), with);
  return p;
}

class Jwt : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<Ed25519Key> k = Ed25519Key::generate();
    ASSERT_TRUE(k.is_ok());
    key_ = std::make_unique<Ed25519Key>(std::move(k).value());
    Result<std::string> t = sign_access_token(*key_, sample_claims());
    ASSERT_TRUE(t.is_ok()) << t.status().describe();
    token_ = *t;
  }

  void expect_invalid(const std::string& token, std::int64_t now = kNow) const {
    Result<AccessClaims> r = verify_access_token(*key_, token, now, kLeeway, kAccessTokenSeconds);
    ASSERT_FALSE(r.is_ok()) << token;
    EXPECT_EQ(r.status().code(), Code::kUnauthenticated);
    EXPECT_EQ(r.status().message(), "invalid token") << token;
  }

  std::unique_ptr<Ed25519Key> key_;
  std::string token_;
};

TEST_F(Jwt, RoundTripsEveryClaim) {
  Result<AccessClaims> r = verify_access_token(*key_, token_, kNow, kLeeway, kAccessTokenSeconds);
  ASSERT_TRUE(r.is_ok()) << r.status().describe();
  const AccessClaims want = sample_claims();
  EXPECT_EQ(r->sub, want.sub);
  EXPECT_EQ(r->username, want.username);
  EXPECT_TRUE(r->is_admin);
  EXPECT_FALSE(r->is_owner);
  EXPECT_EQ(r->iat, kNow);
  EXPECT_EQ(r->exp, kNow + 900);
  EXPECT_EQ(r->jti, want.jti);
  EXPECT_EQ(r->aud, "chatalot");
}

TEST_F(Jwt, HasTheExactHeaderAndUnpaddedParts) {
  const std::vector<std::string> parts = split(token_);
  ASSERT_EQ(parts.size(), 3U);
  EXPECT_EQ(decoded(parts[0]), R"({"alg":"EdDSA","typ":"JWT"})");
  EXPECT_EQ(token_.find('='), std::string::npos);
  EXPECT_EQ(decoded(parts[2]).size(), 64U);
}

TEST_F(Jwt, PayloadIsTheClaimsAsTypedJson) {
  // Other Chatalot components read these claims: booleans are JSON booleans, times integers.
  EXPECT_EQ(decoded(split(token_)[1]),
            R"({"sub":"3f0b8c2e-6d1a-4c5e-9a7b-1e2d3c4b5a69","username":"alice","is_admin":true,)"
            R"("is_owner":false,"iat":1700000000,"exp":1700000900,)"
            R"("jti":"9b1e7f3a-2c4d-4e5f-8a9b-0c1d2e3f4a5b","aud":"chatalot"})");
}

// The session's id travels as "sid" (SPEC section 3, "Access tokens"); a token from before
// sessions existed has none, and reads back as "".
TEST_F(Jwt, SidRoundTripsAndIsLeftOutWhenEmpty) {
  AccessClaims c = sample_claims();
  c.sid = "22222222-0000-4000-8000-000000000001";
  Result<std::string> t = sign_access_token(*key_, c);
  ASSERT_TRUE(t.is_ok());
  EXPECT_NE(decoded(split(*t)[1]).find(R"("sid":"22222222-0000-4000-8000-000000000001")"),
            std::string::npos)
      << decoded(split(*t)[1]);
  Result<AccessClaims> r = verify_access_token(*key_, *t, kNow, kLeeway, kAccessTokenSeconds);
  ASSERT_TRUE(r.is_ok()) << r.status().describe();
  EXPECT_EQ(r->sid, c.sid);

  EXPECT_EQ(decoded(split(token_)[1]).find("sid"), std::string::npos);
  Result<AccessClaims> without = verify_access_token(*key_, token_, kNow, kLeeway, kAccessTokenSeconds);
  ASSERT_TRUE(without.is_ok());
  EXPECT_EQ(without->sid, "");
}

TEST_F(Jwt, RefusesASidThatIsNotAString) {
  for (const std::string_view sid : {R"("sid":42)", R"("sid":null)", R"("sid":["s"])",
                                     R"("sid":{})", R"("sid":true)", R"("sid":"a","sid":"b")"}) {
    expect_invalid(signed_token(
        *key_, kGoodHeader,
        payload_with(R"("aud":"chatalot")", R"("aud":"chatalot",)" + std::string(sid))));
  }
  Result<AccessClaims> r = verify_access_token(
      *key_,
      signed_token(*key_, kGoodHeader,
                   payload_with(R"("aud":"chatalot")", R"("aud":"chatalot","sid":"s1")")),
      kNow, kLeeway, kAccessTokenSeconds);
  ASSERT_TRUE(r.is_ok()) << r.status().describe();
  EXPECT_EQ(r->sid, "s1");
}

TEST_F(Jwt, EscapesClaimTextSoItCannotInjectFields) {
  AccessClaims c = sample_claims();
  c.username = R"(eve","is_owner":true,"x":")";
  Result<std::string> t = sign_access_token(*key_, c);
  ASSERT_TRUE(t.is_ok());
  Result<AccessClaims> r = verify_access_token(*key_, *t, kNow, kLeeway, kAccessTokenSeconds);
  ASSERT_TRUE(r.is_ok()) << r.status().describe();
  EXPECT_EQ(r->username, c.username);
  EXPECT_FALSE(r->is_owner);
}

TEST_F(Jwt, VerifiesWithThePublicKeyAlone) {
  // Handlers that only check tokens load the public half of the key.
  std::string dir = (std::filesystem::temp_directory_path() / "jwt_test.XXXXXX").string();
  ASSERT_NE(::mkdtemp(dir.data()), nullptr);
  const std::string pub = dir + "/jwt.pub";
  ASSERT_TRUE(key_->write_public_pem(pub).is_ok());
  Result<Ed25519Key> verifier = Ed25519Key::load_public_pem(pub);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(verifier.is_ok()) << verifier.status().describe();
  Result<AccessClaims> r = verify_access_token(*verifier, token_, kNow, kLeeway, kAccessTokenSeconds);
  ASSERT_TRUE(r.is_ok()) << r.status().describe();
  EXPECT_EQ(r->username, "alice");
  EXPECT_FALSE(sign_access_token(*verifier, sample_claims()).is_ok());
}

TEST_F(Jwt, RejectsATamperedPayload) {
  const std::vector<std::string> parts = split(token_);
  std::string payload = decoded(parts[1]);
  payload.replace(payload.find(R"("is_owner":false)"), 16, R"("is_owner":true )");
  expect_invalid(parts[0] + "." + base64url_encode(payload) + "." + parts[2]);
}

TEST_F(Jwt, RejectsATamperedSignature) {
  const std::vector<std::string> parts = split(token_);
  std::string signature = decoded(parts[2]);
  signature[20] = static_cast<char>(signature[20] ^ 0x40);
  expect_invalid(parts[0] + "." + parts[1] + "." + base64url_encode(signature));
  expect_invalid(parts[0] + "." + parts[1] + "." + base64url_encode(signature.substr(0, 63)));
  expect_invalid(parts[0] + "." + parts[1] + ".");
  // The same signature bytes spelled differently (stray low bits in the last character).
  std::string respelled = parts[2];
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  respelled.back() = kAlphabet[kAlphabet.find(respelled.back()) | 1];
  expect_invalid(parts[0] + "." + parts[1] + "." + respelled);
}

TEST_F(Jwt, RejectsATokenSignedByAnotherKey) {
  Result<Ed25519Key> other = Ed25519Key::generate();
  ASSERT_TRUE(other.is_ok());
  Result<std::string> t = sign_access_token(*other, sample_claims());
  ASSERT_TRUE(t.is_ok());
  expect_invalid(*t);
}

TEST_F(Jwt, RejectsAnotherAudience) {
  AccessClaims c = sample_claims();
  c.aud = "someone-else";
  Result<std::string> t = sign_access_token(*key_, c);
  ASSERT_TRUE(t.is_ok());
  expect_invalid(*t);
  expect_invalid(
      signed_token(*key_, kGoodHeader, payload_with(R"("chatalot")", R"(["chatalot"])")));
  expect_invalid(signed_token(*key_, kGoodHeader, payload_with(R"(,"aud":"chatalot")", "")));
}

TEST_F(Jwt, ExpiresAfterExpPlusLeeway) {
  const std::int64_t exp = kNow + 900;
  EXPECT_TRUE(verify_access_token(*key_, token_, exp - 1, 0, kAccessTokenSeconds).is_ok());
  EXPECT_TRUE(verify_access_token(*key_, token_, exp + kLeeway - 1, kLeeway, kAccessTokenSeconds).is_ok());
  for (const std::int64_t now : {exp + kLeeway, exp + 100000}) {
    Result<AccessClaims> r = verify_access_token(*key_, token_, now, kLeeway, kAccessTokenSeconds);
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().code(), Code::kUnauthenticated);
    EXPECT_EQ(r.status().message(), "token expired");
  }
  Result<AccessClaims> r = verify_access_token(*key_, token_, exp, 0, kAccessTokenSeconds);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "token expired");
}

TEST_F(Jwt, ExpiredAndForgedIsInvalidNotExpired) {
  // "token expired" is only said of a token we really issued.
  Result<Ed25519Key> other = Ed25519Key::generate();
  ASSERT_TRUE(other.is_ok());
  Result<std::string> t = sign_access_token(*other, sample_claims());
  ASSERT_TRUE(t.is_ok());
  expect_invalid(*t, kNow + 100000);
}

TEST_F(Jwt, RejectsATokenIssuedInTheFuture) {
  EXPECT_TRUE(verify_access_token(*key_, token_, kNow - kLeeway, kLeeway, kAccessTokenSeconds).is_ok());
  expect_invalid(token_, kNow - kLeeway - 1);
}

TEST_F(Jwt, RefusesALifetimeLongerThanTheAccessTokens) {
  // Signed with our key but claiming a year, or an exp before its iat: not a token we issue.
  for (const std::string_view exp : {R"("exp":1731536000)", R"("exp":1700000901)", R"("exp":1699999999)"}) {
    expect_invalid(signed_token(*key_, kGoodHeader, payload_with(R"("exp":1700000900)", exp)));
  }
  EXPECT_TRUE(verify_access_token(*key_,
                                  signed_token(*key_, kGoodHeader,
                                               payload_with(R"("exp":1700000900)", R"("exp":1700000100)")),
                                  kNow, kLeeway, kAccessTokenSeconds)
                  .is_ok());
}

TEST_F(Jwt, RefusesALifetimeLongerThanTheConfiguredOne) {
  // ACCESS_TOKEN_SECONDS lowered to 300: a 900 s token issued before is refused at once.
  const std::int64_t now = kNow + 10;
  EXPECT_TRUE(verify_access_token(*key_, token_, now, kLeeway, 900).is_ok());
  Result<AccessClaims> r = verify_access_token(*key_, token_, now, kLeeway, 300);
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().message(), "invalid token");
  const std::string short_lived = signed_token(
      *key_, kGoodHeader, payload_with(R"("exp":1700000900)", R"("exp":1700000300)"));
  EXPECT_TRUE(verify_access_token(*key_, short_lived, now, kLeeway, 300).is_ok());
  EXPECT_FALSE(verify_access_token(*key_, short_lived, kNow + 300, 0, 300).is_ok());
}

TEST_F(Jwt, RejectsGarbage) {
  const std::vector<std::string> parts = split(token_);
  for (const std::string& bad :
       {std::string(), std::string("."), std::string(".."), std::string("a.b.c"),
        std::string("not a token"), parts[0] + "." + parts[1], token_ + ".", token_ + ".x",
        "." + token_, " " + token_, token_ + " ", token_ + "=", "Bearer " + token_,
        parts[0] + "==." + parts[1] + "." + parts[2], std::string(100000, 'A'),
        token_ + std::string(1, '\0'), std::string("\xff\xfe.\x80.\x00", 6)}) {
    expect_invalid(bad);
  }
}

TEST_F(Jwt, RejectsAlgNoneAndOtherAlgorithms) {
  const std::vector<std::string> parts = split(token_);
  for (const std::string header :
       {R"({"alg":"none","typ":"JWT"})", R"({"alg":"HS256","typ":"JWT"})",
        R"({"alg":"eddsa","typ":"JWT"})", R"({"typ":"JWT"})", R"({"alg":null})",
        R"({"alg":"EdDSA","alg":"none"})", R"({"alg":"none","alg":"EdDSA"})",
        R"({"alg":"EdDSA","typ":"JWE"})", R"({"alg":"EdDSA","crit":["exp"]})", "[]", "{"}) {
    const std::string h = base64url_encode(header);
    expect_invalid(h + "." + parts[1] + ".");
    expect_invalid(h + "." + parts[1] + "." + parts[2]);
    expect_invalid(signed_token(*key_, header, payload_with("", "")));
  }
  // A header without typ is still a valid JWS header.
  EXPECT_TRUE(verify_access_token(*key_,
                                  signed_token(*key_, R"({"alg":"EdDSA"})", payload_with("", "")),
                                  kNow, kLeeway, kAccessTokenSeconds)
                  .is_ok());
}

TEST_F(Jwt, RejectsSignedClaimsOfTheWrongShape) {
  EXPECT_TRUE(verify_access_token(*key_, signed_token(*key_, kGoodHeader, payload_with("", "")),
                                  kNow, kLeeway, kAccessTokenSeconds)
                  .is_ok());
  const std::pair<std::string_view, std::string_view> edits[] = {
      {R"("is_admin":false)", R"("is_admin":"true")"},
      {R"("is_admin":false)", R"("is_admin":1)"},
      {R"("is_owner":false,)", ""},
      {R"("exp":1700000900)", R"("exp":"1700000900")"},
      {R"("exp":1700000900)", R"("exp":1700000900.5)"},
      {R"("exp":1700000900)", R"("exp":1e30)"},
      {R"("iat":1700000000,)", ""},
      {R"("sub":"u1")", R"("sub":"")"},
      {R"("sub":"u1")", R"("sub":42)"},
      {R"("jti":"j1")", R"("jti":null)"},
      {R"("username":"alice")", R"("username":"alice","username":"root")"},
      {R"("is_admin":false)", R"("is_admin":false,"is_admin":true)"},
  };
  for (const auto& [from, to] : edits) {
    expect_invalid(signed_token(*key_, kGoodHeader, payload_with(from, to)));
  }
  expect_invalid(signed_token(*key_, kGoodHeader, "[]"));
  expect_invalid(signed_token(*key_, kGoodHeader, "{"));
  expect_invalid(signed_token(*key_, kGoodHeader, payload_with("", "") + "x"));
}

// --- JwtVerifier: signatures remembered, claims checked every time ---------------------

TEST_F(Jwt, AVerifierChecksTheClaimsOfARememberedTokenEveryTime) {
  const JwtVerifier verifier(std::move(*key_), kAccessTokenSeconds);
  ASSERT_TRUE(verifier.verify(token_, kNow).is_ok());
  ASSERT_TRUE(verifier.verify(token_, kNow + 10).is_ok());  // remembered: no signature check
  Result<AccessClaims> late = verifier.verify(token_, kNow + 900 + kLeeway);
  ASSERT_FALSE(late.is_ok());
  EXPECT_EQ(late.status().message(), Msg::kTokenExpired.text());
}

TEST_F(Jwt, AVerifierNeverRemembersAForgery) {
  const std::vector<std::string> parts = split(token_);
  std::string signature = decoded(parts[2]);
  signature[5] = static_cast<char>(signature[5] ^ 0x01);
  const std::string forged = parts[0] + "." + parts[1] + "." + base64url_encode(signature);
  const JwtVerifier verifier(std::move(*key_), kAccessTokenSeconds);
  // The genuine token, with the same header and claims, is remembered first.
  ASSERT_TRUE(verifier.verify(token_, kNow).is_ok());
  for (int i = 0; i < 3; ++i) {
    Result<AccessClaims> r = verifier.verify(forged, kNow);
    ASSERT_FALSE(r.is_ok());
    EXPECT_EQ(r.status().message(), Msg::kTokenInvalid.text());
  }
}

TEST(VerifiedTokens, ForgetsTheOldestBeyondItsCapacity) {
  VerifiedTokens tokens(2);
  tokens.add("a");
  tokens.add("b");
  tokens.add("a");  // already there: still the oldest
  tokens.add("c");
  EXPECT_FALSE(tokens.contains("a"));
  EXPECT_TRUE(tokens.contains("b"));
  EXPECT_TRUE(tokens.contains("c"));
}

}  // namespace
}  // namespace chatalot
