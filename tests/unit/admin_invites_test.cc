// The admin invite API without a database: the POST body's fields, the Authorization header,
// the invite's JSON shape, and the answers given before PostgreSQL is asked anything.
#include "handler.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "core/auth.h"
#include "core/text.h"
#include "crypto/crypto.h"
#include "core/json.h"
#include "crypto/jwt.h"
#include "http/render.h"

namespace chatalot {
namespace {

Result<InviteSpec> spec_of(const std::string& json) {
  Result<rapidjson::Document> doc = parse_json_object(json);
  EXPECT_TRUE(doc.is_ok()) << json;
  if (!doc.is_ok()) return doc.status();
  return invite_spec_from_json(*doc);
}

std::string message_of(const std::string& json) {
  Result<InviteSpec> spec = spec_of(json);
  if (spec.is_ok()) return "ok";
  EXPECT_EQ(spec.status().code(), Code::kInvalidArgument);
  return spec.status().message();
}

TEST(InviteSpecFromJson, AbsentNullAndUnknownFieldsMeanNone) {
  for (const char* json : {"{}", R"({"max_uses":null,"expires_in_hours":null,"note":null})",
                           R"({"code":"ABCD","created_by":7,"extra":[1,2]})"}) {
    Result<InviteSpec> spec = spec_of(json);
    ASSERT_TRUE(spec.is_ok()) << json;
    EXPECT_FALSE(spec->max_uses) << json;
    EXPECT_FALSE(spec->expires_in_hours) << json;
    EXPECT_FALSE(spec->note) << json;
  }
}

TEST(InviteSpecFromJson, ReadsEveryField) {
  Result<InviteSpec> spec = spec_of(R"({"max_uses":5,"expires_in_hours":8760,"note":"für Ana"})");
  ASSERT_TRUE(spec.is_ok()) << spec.status().describe();
  EXPECT_EQ(spec->max_uses, 5);
  EXPECT_EQ(spec->expires_in_hours, 8760);
  EXPECT_EQ(spec->note, "für Ana");
  EXPECT_EQ(message_of(R"({"max_uses":2147483647,"expires_in_hours":1,"note":""})"), "ok");
}

TEST(InviteSpecFromJson, WrongTypesNameTheField) {
  const std::string max_uses = "max_uses must be an integer or null";
  const std::string hours = "expires_in_hours must be an integer or null";
  const std::string note = "note must be a string or null";
  EXPECT_EQ(message_of(R"({"max_uses":1.5})"), max_uses);
  EXPECT_EQ(message_of(R"({"max_uses":1.0})"), max_uses);
  EXPECT_EQ(message_of(R"({"max_uses":"3"})"), max_uses);
  EXPECT_EQ(message_of(R"({"max_uses":true})"), max_uses);
  EXPECT_EQ(message_of(R"({"max_uses":[1]})"), max_uses);
  EXPECT_EQ(message_of(R"({"max_uses":{}})"), max_uses);
  EXPECT_EQ(message_of(R"({"expires_in_hours":"x"})"), hours);
  EXPECT_EQ(message_of(R"({"expires_in_hours":2.5})"), hours);
  EXPECT_EQ(message_of(R"({"note":7})"), note);
  EXPECT_EQ(message_of(R"({"note":false})"), note);
  EXPECT_EQ(message_of(R"({"note":["a"]})"), note);
}

TEST(InviteSpecFromJson, RangesUseTheContractsMessages) {
  const std::string max_uses = "max_uses must be between 1 and 2147483647";
  const std::string hours = "expires_in_hours must be between 1 and 8760";
  const std::string note = "note must be at most 200 characters without control characters";
  EXPECT_EQ(message_of(R"({"max_uses":0})"), max_uses);
  EXPECT_EQ(message_of(R"({"max_uses":-1})"), max_uses);
  EXPECT_EQ(message_of(R"({"max_uses":2147483648})"), max_uses);
  // Too large for 64 bits: still an integer, out of range.
  EXPECT_EQ(message_of(R"({"max_uses":18446744073709551615})"), max_uses);
  EXPECT_EQ(message_of(R"({"max_uses":100000000000000000000000})"), max_uses);
  EXPECT_EQ(message_of(R"({"max_uses":-100000000000000000000000})"), max_uses);
  EXPECT_EQ(message_of(R"({"expires_in_hours":0})"), hours);
  EXPECT_EQ(message_of(R"({"expires_in_hours":8761})"), hours);
  EXPECT_EQ(message_of(R"({"note":")" + std::string(201, 'a') + R"("})"), note);
  EXPECT_EQ(message_of(R"({"note":")" + std::string(200, 'a') + R"("})"), "ok");
  // 200 characters of two bytes each are 200 characters.
  std::string umlauts;
  for (int i = 0; i < 200; ++i) umlauts += "\xc3\xbc";
  EXPECT_EQ(message_of(R"({"note":")" + umlauts + R"("})"), "ok");
  EXPECT_EQ(message_of(R"({"note":"a\nb"})"), note);
  EXPECT_EQ(message_of(R"({"note":"a\u0000b"})"), note);
  EXPECT_EQ(message_of(R"({"note":"a\u007fb"})"), note);
}

TEST(InviteSpecFromJson, TypesAreCheckedBeforeRanges) {
  EXPECT_EQ(message_of(R"({"max_uses":0,"note":7})"), "note must be a string or null");
}

TEST(BearerToken, AcceptsTheSchemeInAnyCase) {
  EXPECT_EQ(bearer_token("Bearer abc.def.ghi"), "abc.def.ghi");
  EXPECT_EQ(bearer_token("bearer abc"), "abc");
  EXPECT_EQ(bearer_token("BEARER abc"), "abc");
  EXPECT_EQ(bearer_token("  Bearer \t abc  "), "abc");
}

TEST(BearerToken, RefusesEverythingElse) {
  for (const char* header : {"", "Bearer", "Bearer ", "Bearer  ", "Bearerabc", "Basic abc",
                             "Bearer a b", "Token abc", "abc", "Bearer\x01xyz"}) {
    EXPECT_FALSE(bearer_token(header)) << header;
  }
}

TEST(IsUuid, CanonicalFormOnly) {
  EXPECT_TRUE(is_uuid("3f0b8c2e-6d1a-4c5e-9a7b-1e2d3c4b5a69"));
  EXPECT_TRUE(is_uuid("3F0B8C2E-6D1A-4C5E-9A7B-1E2D3C4B5A69"));
  EXPECT_FALSE(is_uuid("not-a-uuid"));
  EXPECT_FALSE(is_uuid(""));
  EXPECT_FALSE(is_uuid("3f0b8c2e6d1a4c5e9a7b1e2d3c4b5a69"));
  EXPECT_FALSE(is_uuid("{3f0b8c2e-6d1a-4c5e-9a7b-1e2d3c4b5a69}"));
  EXPECT_FALSE(is_uuid("3f0b8c2e-6d1a-4c5e-9a7b-1e2d3c4b5a6g"));
  EXPECT_FALSE(is_uuid("3f0b8c2e-6d1a-4c5e-9a7b-1e2d3c4b5a69 "));
}

// The full code is not stored: a listed invite's "code" (the field the Chatalot admin panel
// shows) is its hint followed by an ellipsis, U+2026.
TEST(WriteInviteJson, ListedShapeHasNullsAndTheHintAsCode) {
  Invite invite;
  invite.id = "i1";
  invite.code_hint = "ABCD";
  invite.created_at = "2026-01-02T03:04:05.000006Z";
  JsonWriter w;
  write_invite_json(w, invite);
  EXPECT_EQ(w.take(),
            R"({"id":"i1","code":"ABCD)"
            "\xe2\x80\xa6"
            R"(","code_hint":"ABCD","created_by":null,)"
            R"("max_uses":null,"used_count":0,"expires_at":null,)"
            R"("created_at":"2026-01-02T03:04:05.000006Z","note":null,"revoked_at":null})");
}

TEST(WriteInviteJson, CreatedShapeHasTheCodeAfterTheId) {
  CreatedInvite created;
  created.invite.id = "i2";
  created.code = "ABCD-EFGH";
  created.invite.code_hint = "ABCD";
  created.invite.max_uses = 3;
  created.invite.expires_at = "2026-01-03T03:04:05.000006Z";
  created.invite.created_at = "2026-01-02T03:04:05.000006Z";
  created.invite.note = "for \"Ana\"";
  created.invite.created_by = "u1";
  JsonWriter w;
  write_invite_json(w, created.invite, created.code);
  EXPECT_EQ(
      w.take(),
      R"({"id":"i2","code":"ABCD-EFGH","code_hint":"ABCD","created_by":"u1","max_uses":3,)"
      R"("used_count":0,"expires_at":"2026-01-03T03:04:05.000006Z",)"
      R"("created_at":"2026-01-02T03:04:05.000006Z","note":"for \"Ana\"","revoked_at":null})");
}

// The endpoint with a key pair on disk and a PostgreSQL that cannot be reached: everything
// decided before the database is asked answers without it.
class AdminInvitesEndpoint : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("admin_invites_test." + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    Result<Ed25519Key> key = Ed25519Key::generate();
    ASSERT_TRUE(key.is_ok());
    key_ = std::make_unique<Ed25519Key>(std::move(key).value());
    ASSERT_TRUE(key_->write_public_pem(public_path()).is_ok());
    Config config = default_config();
    config.jwt_public_key_path = public_path();
    config.database_url = "postgresql:///none?host=" + (dir_ / "no-such-dir").string();
    Result<Endpoint> endpoint = admin_invites_endpoint(config);
    ASSERT_TRUE(endpoint.is_ok()) << endpoint.status().describe();
    endpoint_ = std::move(endpoint).value();
    worker_ = endpoint_.new_worker();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  [[nodiscard]] std::string public_path() const { return (dir_ / "jwt.pub.pem").string(); }

  static std::int64_t now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }

  [[nodiscard]] std::string token(
      const Ed25519Key& key, std::int64_t exp_offset = 900,
      const std::string& sub = "3f0b8c2e-6d1a-4c5e-9a7b-1e2d3c4b5a69") const {
    AccessClaims c;
    c.sub = sub;
    c.username = "admin";
    c.is_admin = true;
    c.exp = now() + exp_offset;
    c.iat = c.exp - kAccessTokenSeconds;  // as we issue them: a longer lifetime is refused
    c.jti = "j";
    Result<std::string> t = sign_access_token(key, c);
    EXPECT_TRUE(t.is_ok());
    return t.is_ok() ? *t : "";
  }

  [[nodiscard]] Response call(const std::string& method, const std::string& path,
                              const std::string& authorization = "") const {
    Request r;
    r.method = method;
    r.path = path;
    r.authorization = authorization;
    return dispatch(*worker_, r);
  }

  static std::string header(const Response& r, const std::string& name) {
    for (const auto& [k, v] : r.headers) {
      if (k == name) return v;
    }
    return "";
  }

  std::filesystem::path dir_;
  std::unique_ptr<Ed25519Key> key_;
  Endpoint endpoint_;
  std::unique_ptr<Worker> worker_;
};

std::string error_body(const std::string& code, const std::string& message) {
  return R"({"error":{"code":")" + code + R"(","message":")" + message + R"("}})";
}

TEST_F(AdminInvitesEndpoint, EveryMethodReachesTheHandlerAndOnlyPostBodiesAreChecked) {
  for (const char* m : {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}) {
    EXPECT_NE(std::find(endpoint_.rules.methods.begin(), endpoint_.rules.methods.end(), m),
              endpoint_.rules.methods.end())
        << m;
  }
  EXPECT_TRUE(endpoint_.rules.json_body);
  // So a PUT on an item names the item's only method.
  const Response r = call("PUT", "/api/admin/invites/00000000-0000-4000-8000-000000000000");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(header(r, "Allow"), "DELETE");
}

TEST_F(AdminInvitesEndpoint, UnknownPathsAre404) {
  const std::string bearer = "Bearer " + token(*key_);
  for (const char* path : {"/api/admin/invite", "/api/admin/invites/", "/api/admin/invitesX",
                           "/api/admin/invites/a/b", "/"}) {
    const Response r = call("GET", path, bearer);
    EXPECT_EQ(r.status, 404) << path;
    EXPECT_EQ(r.body, error_body("not_found", "not found")) << path;
  }
}

TEST_F(AdminInvitesEndpoint, WrongMethodIs405WithThePathsAllow) {
  Response r = call("DELETE", "/api/admin/invites");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(header(r, "Allow"), "GET, POST");
  EXPECT_EQ(r.body, error_body("method_not_allowed", "method DELETE is not allowed"));
  for (const char* method : {"GET", "POST"}) {
    r = call(method, "/api/admin/invites/3f0b8c2e-6d1a-4c5e-9a7b-1e2d3c4b5a69");
    EXPECT_EQ(r.status, 405) << method;
    EXPECT_EQ(header(r, "Allow"), "DELETE") << method;
  }
}

TEST_F(AdminInvitesEndpoint, MissingOrMalformedAuthorizationIs401) {
  for (const char* authorization : {"", "Bearer", "Basic dXNlcjpwYXNz", "Bearer a b"}) {
    const Response r = call("GET", "/api/admin/invites", authorization);
    EXPECT_EQ(r.status, 401) << authorization;
    EXPECT_EQ(r.body, error_body("unauthorized", "missing or invalid access token"));
    EXPECT_EQ(header(r, "WWW-Authenticate"), "Bearer");
  }
}

TEST_F(AdminInvitesEndpoint, BadTokensAre401WithTheirMessage) {
  Result<Ed25519Key> other = Ed25519Key::generate();
  ASSERT_TRUE(other.is_ok());
  const std::pair<std::string, std::string> cases[] = {
      {"Bearer garbage", "invalid token"},
      {"Bearer " + token(*other), "invalid token"},
      {"Bearer " + token(*key_, -120), "token expired"},
      // Signed by us, but a sub that is no user id: refused before any SQL.
      {"Bearer " + token(*key_, 900, "'; DROP TABLE users; --"), "invalid token"},
  };
  for (const auto& [authorization, message] : cases) {
    const Response r = call("DELETE", "/api/admin/invites/x", authorization);
    EXPECT_EQ(r.status, 401) << authorization;
    EXPECT_EQ(r.body, error_body("unauthorized", message)) << authorization;
  }
}

TEST_F(AdminInvitesEndpoint, WithinTheLeewayAGoodTokenReachesTheDatabase) {
  // PostgreSQL cannot be reached: a token that passed every check gets the 503.
  for (const std::int64_t exp_offset : {900, -30}) {
    const Response r = call("GET", "/api/admin/invites", "bearer " + token(*key_, exp_offset));
    EXPECT_EQ(r.status, 503);
    EXPECT_EQ(r.body, error_body("service_unavailable", "the service is temporarily unavailable"));
    EXPECT_EQ(header(r, "Retry-After"), "5");
  }
}

TEST(AdminInvitesFactory, AMissingPublicKeyIsAConfigurationError) {
  Config config;
  config.jwt_public_key_path = "/nonexistent/jwt.pub.pem";
  Result<Endpoint> endpoint = admin_invites_endpoint(config);
  ASSERT_FALSE(endpoint.is_ok());
  EXPECT_EQ(endpoint.status().code(), Code::kFailedPrecondition);
  EXPECT_EQ(endpoint.status().describe().rfind("JWT_PUBLIC_KEY_PATH: ", 0), 0U)
      << endpoint.status().describe();
}

}  // namespace
}  // namespace chatalot
