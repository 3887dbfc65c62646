// The admin invite API end to end through nginx, and the CLI's invite list and revoke.
#include <gtest/gtest.h>

#include <ctime>
#include <regex>
#include <thread>
#include <vector>

#include "core/codes.h"
#include "crypto/crypto.h"
#include "harness.h"
#include "core/json.h"
#include "http/json_writer.h"
#include "crypto/jwt.h"
#include "registration.h"

namespace chatalot::testing {
namespace {

constexpr const char* kInvites = "/api/admin/invites";
constexpr const char* kInviteInvalid = "invalid, expired, or fully used invite code";

Stack* g_stack = nullptr;
std::string g_owner_id;
std::string g_owner_token;
std::string g_user_token;  // a registered account that is not an admin

struct Account {
  std::string id;
  std::string token;
};

// Registers through nginx; an empty account when it failed (the test has then failed too).
Account register_account(const std::string& tag, const std::string& code) {
  const auto res = g_stack->client()->Post(
      "/api/auth/register", registration_body(registrant(tag, code)), "application/json");
  EXPECT_TRUE(res);
  if (!res) return {};
  EXPECT_EQ(res->status, 200) << res->body;
  Result<rapidjson::Document> doc = parse_json_object(res->body);
  if (res->status != 200 || !doc.is_ok()) return {};
  return {(*doc)["user"]["id"].GetString(), (*doc)["access_token"].GetString()};
}

// Argon2 at the OWASP floor to keep the suite fast, and registration limits out of the way
// (they are not what is tested here); the owner comes from an invite created on the server's
// shell, as on a fresh invite_only instance.
class StackEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    g_stack = new Stack("admin", 1, fast_unlimited_env());
    const CommandResult r = g_stack->up({{"REGISTRATION_MODE", "invite_only"}});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const CommandResult created = g_stack->script("ctl invite create --max-uses 2");
    ASSERT_EQ(created.exit_code, 0) << created.output;
    // stdout holds the code alone; stderr's line may come before it in the merged output.
    std::smatch m;
    ASSERT_TRUE(
        std::regex_search(created.output, m, std::regex("(^|\n)([0-9A-Z]{4}(-[0-9A-Z]{4}){6})\n")))
        << created.output;
    const std::string code = m[2].str();
    const Account owner = register_account("owner", code);
    const Account user = register_account("user", code);
    ASSERT_EQ(g_stack->query("SELECT is_owner FROM users WHERE id = $1", {owner.id}), "t");
    g_owner_id = owner.id;
    g_owner_token = owner.token;
    g_user_token = user.token;
  }
  void TearDown() override { delete g_stack; }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new StackEnvironment);

std::string error_body(const std::string& code, const std::string& message) {
  return R"({"error":{"code":")" + code + R"(","message":")" + message + R"("}})";
}

httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

httplib::Result get(const std::string& token, const std::string& path = kInvites) {
  return g_stack->client()->Get(path, token.empty() ? httplib::Headers{} : bearer(token));
}

httplib::Result post(const std::string& token, const std::string& body,
                     const std::string& content_type = "application/json") {
  return g_stack->client()->Post(kInvites, token.empty() ? httplib::Headers{} : bearer(token), body,
                                 content_type);
}

httplib::Result del(const std::string& token, const std::string& id) {
  return g_stack->client()->Delete(std::string(kInvites) + "/" + id,
                                   token.empty() ? httplib::Headers{} : bearer(token));
}

rapidjson::Document parse(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  EXPECT_FALSE(doc.HasParseError()) << body;
  return doc;
}

std::string text(const rapidjson::Value& v) { return v.IsString() ? v.GetString() : "<not text>"; }

// Creates an invite through the API; the parsed answer.
rapidjson::Document create(const std::string& body = "{}") {
  const auto res = post(g_owner_token, body);
  EXPECT_TRUE(res);
  if (!res) return parse("{}");
  EXPECT_EQ(res->status, 200) << res->body;
  return parse(res->body);
}

std::string sign(const Ed25519Key& key, const std::string& sub, std::int64_t exp_offset,
                 const std::string& aud = "chatalot") {
  const std::int64_t now = std::time(nullptr);
  // A lifetime of exactly kAccessTokenSeconds, as we issue them: anything longer is refused on
  // its own, and would hide what each test means to refuse.
  AccessClaims claims{sub,  "someone", true, true, now + exp_offset - kAccessTokenSeconds,
                      now + exp_offset, "jti-1", aud, ""};
  Result<std::string> token = sign_access_token(key, claims);
  EXPECT_TRUE(token.is_ok());
  return token.is_ok() ? *token : "";
}

Ed25519Key stack_key() {
  Result<Ed25519Key> key = Ed25519Key::load_private_pem(g_stack->dir() + "/keys/jwt_ed25519.pem");
  EXPECT_TRUE(key.is_ok()) << key.status().message();
  return std::move(key).value();
}

int invite_count() {
  return std::stoi(g_stack->query("SELECT count(*) FROM registration_invites"));
}

void expect_401(const httplib::Result& res, const std::string& message) {
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_EQ(res->body, error_body("unauthorized", message));
  EXPECT_EQ(res->get_header_value("WWW-Authenticate"), "Bearer");
}

TEST(AdminAuth, NoTokenIs401OnEveryMethod) {
  expect_401(get(""), "missing or invalid access token");
  expect_401(post("", "{}"), "missing or invalid access token");
  expect_401(del("", "00000000-0000-0000-0000-000000000000"), "missing or invalid access token");
  const auto basic = g_stack->client()->Get(kInvites, {{"Authorization", "Basic YTpi"}});
  expect_401(basic, "missing or invalid access token");
}

TEST(AdminAuth, GarbageTokenIs401) { expect_401(get("garbage"), "invalid token"); }

TEST(AdminAuth, TokenSignedByAnotherKeyIs401) {
  Result<Ed25519Key> other = Ed25519Key::generate();
  ASSERT_TRUE(other.is_ok());
  expect_401(get(sign(*other, g_owner_id, 900)), "invalid token");
}

TEST(AdminAuth, ExpiredTokenIs401) {
  expect_401(get(sign(stack_key(), g_owner_id, -120)), "token expired");
  // Within the 60 s leeway it still counts.
  const auto res = get(sign(stack_key(), g_owner_id, -30));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
}

TEST(AdminAuth, WrongAudienceIs401) {
  expect_401(get(sign(stack_key(), g_owner_id, 900, "elsewhere")), "invalid token");
}

TEST(AdminAuth, ATokenForNoExistingUserIs401) {
  expect_401(get(sign(stack_key(), "6b1d9a3e-0000-4000-8000-000000000001", 900)), "invalid token");
  expect_401(get(sign(stack_key(), "not-a-uuid", 900)), "invalid token");
}

TEST(AdminAuth, NonAdminIs403AndChangesNothing) {
  const int before = invite_count();
  const std::string forbidden = error_body("forbidden", "admin access required");
  httplib::Result answers[] = {get(g_user_token), post(g_user_token, R"({"max_uses":1})"),
                               del(g_user_token, "00000000-0000-0000-0000-000000000000")};
  for (const httplib::Result& res : answers) {
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 403);
    EXPECT_EQ(res->body, forbidden);
  }
  EXPECT_EQ(invite_count(), before);
}

TEST(AdminAuth, TheDatabaseDecidesOnEveryRequest) {
  const Account carol = register_account("carol", text(create()["code"]));
  // Her token says she is no admin; the database is what counts, both ways, at once.
  g_stack->query("UPDATE users SET is_admin = true WHERE id = $1 RETURNING id", {carol.id});
  auto res = get(carol.token);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  g_stack->query("UPDATE users SET is_admin = false WHERE id = $1 RETURNING id", {carol.id});
  res = get(carol.token);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_EQ(res->body, error_body("forbidden", "admin access required"));
}

TEST(AdminCreate, EachBadFieldValueIs400WithItsMessage) {
  const std::string max_type = "max_uses must be an integer or null";
  const std::string max_range = "max_uses must be between 1 and 2147483647";
  const std::string hours_type = "expires_in_hours must be an integer or null";
  const std::string hours_range = "expires_in_hours must be between 1 and 8760";
  const std::string note_type = "note must be a string or null";
  const std::string note_bad = "note must be at most 200 characters without control characters";
  const std::pair<std::string, std::string> cases[] = {
      {R"({"max_uses":0})", max_range},
      {R"({"max_uses":-1})", max_range},
      {R"({"max_uses":2147483648})", max_range},
      {R"({"max_uses":1.5})", max_type},
      {R"({"max_uses":"3"})", max_type},
      {R"({"max_uses":true})", max_type},
      {R"({"expires_in_hours":0})", hours_range},
      {R"({"expires_in_hours":8761})", hours_range},
      {R"({"expires_in_hours":"x"})", hours_type},
      {R"({"note":")" + std::string(201, 'n') + R"("})", note_bad},
      {R"({"note":"tab\there"})", note_bad},
      {R"({"note":"c1 \u0085 control"})", note_bad},
      {"{\"note\":\"bidi \xE2\x80\xAE override\"}", note_bad},
      {R"({"note":"isolate \u2066x\u2069"})", note_bad},
      // A lone surrogate escape: a 500 from PostgreSQL before (SPEC guarantee 8).
      {R"({"note":"ab\udc00"})", "note must be valid Unicode text"},
      {R"({"note":7})", note_type},
      {"{", "request body must be valid JSON"},
      {"not json", "request body must be valid JSON"},
      {"[]", "request body must be a JSON object"},
  };
  const int before = invite_count();
  for (const auto& [body, message] : cases) {
    const auto res = post(g_owner_token, body);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << body;
    EXPECT_EQ(res->body, error_body("validation_error", message)) << body;
  }
  const auto plain = post(g_owner_token, "{}", "text/plain");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->status, 415);
  EXPECT_EQ(invite_count(), before);
}

TEST(AdminCreate, ReturnsTheCodeOnceAndTheCodeRegisters) {
  const rapidjson::Document invite =
      create(R"({"max_uses":2,"expires_in_hours":48,"note":"for the team","extra":1})");
  ASSERT_TRUE(invite.IsObject());
  EXPECT_EQ(invite.MemberCount(), 10U);
  const std::string id = text(invite["id"]);
  const std::string code = text(invite["code"]);
  EXPECT_TRUE(std::regex_match(code, std::regex("[0-9A-Z]{4}(-[0-9A-Z]{4}){6}"))) << code;
  EXPECT_EQ(text(invite["code_hint"]), normalize_invite_code(code).substr(0, 4));
  EXPECT_EQ(text(invite["created_by"]), g_owner_id);
  EXPECT_EQ(invite["max_uses"].GetInt(), 2);
  EXPECT_EQ(invite["used_count"].GetInt(), 0);
  EXPECT_EQ(text(invite["note"]), "for the team");
  EXPECT_TRUE(invite["revoked_at"].IsNull());
  const std::regex rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
  EXPECT_TRUE(std::regex_match(text(invite["created_at"]), rfc3339));
  EXPECT_TRUE(std::regex_match(text(invite["expires_at"]), rfc3339));
  EXPECT_EQ(g_stack->query("SELECT abs(extract(epoch FROM $1::timestamptz"
                           " - (now() + interval '48 hours'))) < 60",
                           {text(invite["expires_at"])}),
            "t");
  // Only the hash is stored; the audit record names the admin.
  EXPECT_EQ(g_stack->query("SELECT code_hash FROM registration_invites WHERE id = $1", {id}),
            sha256_hex(normalize_invite_code(code)));
  EXPECT_EQ(g_stack->query("SELECT actor_id FROM audit_log WHERE action = 'invite.create'"
                           " AND target_id = $1",
                           {id}),
            g_owner_id);

  const Account account = register_account("bycode", code);
  EXPECT_EQ(g_stack->query("SELECT invite_id FROM users WHERE id = $1", {account.id}), id);
  EXPECT_EQ(g_stack->query("SELECT used_count FROM registration_invites WHERE id = $1", {id}), "1");
}

TEST(AdminCreate, AnEmptyBodyObjectMakesAnUnlimitedInviteThatNeverExpires) {
  const rapidjson::Document invite = create(R"({"max_uses":null,"note":null})");
  ASSERT_TRUE(invite.IsObject());
  EXPECT_TRUE(invite["max_uses"].IsNull());
  EXPECT_TRUE(invite["expires_at"].IsNull());
  EXPECT_TRUE(invite["note"].IsNull());
  EXPECT_TRUE(invite["code"].IsString());
}

TEST(AdminList, NewestFirstWithHintsAndNeverACode) {
  std::vector<std::string> codes;
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    const rapidjson::Document invite = create(R"({"note":"list )" + std::to_string(i) + R"("})");
    codes.push_back(text(invite["code"]));
    ids.push_back(text(invite["id"]));
  }
  const auto res = get(g_owner_token);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const rapidjson::Document list = parse(res->body);
  ASSERT_TRUE(list.IsArray());
  ASSERT_GE(list.Size(), 3U);
  EXPECT_EQ(list.Size(), static_cast<rapidjson::SizeType>(std::stoi(g_stack->query(
                             "SELECT count(*) FROM registration_invites WHERE revoked_at IS NULL"))))
      << "revoked invites are left out";
  for (int i = 0; i < 3; ++i) {  // the newest first
    const rapidjson::Value& item = list[static_cast<rapidjson::SizeType>(i)];
    EXPECT_EQ(text(item["id"]), ids[static_cast<std::size_t>(2 - i)]);
    EXPECT_EQ(text(item["code_hint"]),
              normalize_invite_code(codes[static_cast<std::size_t>(2 - i)]).substr(0, 4));
    EXPECT_EQ(text(item["note"]), "list " + std::to_string(2 - i));
  }
  std::string previous = "9999";
  for (const rapidjson::Value& item : list.GetArray()) {
    EXPECT_EQ(item.MemberCount(), 10U);
    // The panel shows "code": the hint and an ellipsis, since the code itself is not stored.
    EXPECT_EQ(text(item["code"]), text(item["code_hint"]) + "\u2026");
    EXPECT_TRUE(item["revoked_at"].IsNull());
    EXPECT_LE(text(item["created_at"]), previous);
    previous = text(item["created_at"]);
  }
  for (const std::string& code : codes) {
    const std::string normalized = normalize_invite_code(code);
    EXPECT_EQ(res->body.find(code), std::string::npos);
    EXPECT_EQ(res->body.find(normalized), std::string::npos);
    EXPECT_EQ(res->body.find(normalized.substr(4)), std::string::npos);
    EXPECT_EQ(res->body.find(sha256_hex(normalized)), std::string::npos);
  }
}

TEST(AdminRevoke, StopsTheCodeAndKeepsTheAccountsMadeWithIt) {
  const rapidjson::Document invite = create(R"({"max_uses":5})");
  const std::string id = text(invite["id"]);
  const std::string code = text(invite["code"]);
  const Account kept = register_account("kept", code);

  const auto res = del(g_owner_token, id);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const rapidjson::Document revoked = parse(res->body);
  EXPECT_EQ(text(revoked["id"]), id);
  EXPECT_EQ(text(revoked["code"]), text(revoked["code_hint"]) + "\u2026");
  EXPECT_EQ(revoked.MemberCount(), 10U);
  EXPECT_EQ(revoked["used_count"].GetInt(), 1);
  const std::string revoked_at = text(revoked["revoked_at"]);
  EXPECT_TRUE(std::regex_match(revoked_at, std::regex(R"(\d{4}-\d\d-\d\dT.*Z)"))) << revoked_at;

  const auto refused = g_stack->client()->Post(
      "/api/auth/register", registration_body(registrant("late", code)), "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400);
  EXPECT_EQ(refused->body, error_body("validation_error", kInviteInvalid));
  EXPECT_EQ(g_stack->query("SELECT invite_id FROM users WHERE id = $1", {kept.id}), id);
  EXPECT_EQ(g_stack->query("SELECT count(*) FROM users WHERE invite_id = $1", {id}), "1");
  EXPECT_EQ(g_stack->query("SELECT actor_id FROM audit_log WHERE action = 'invite.revoke'"
                           " AND target_id = $1 AND request_id IS NOT NULL",
                           {id}),
            g_owner_id);

  // Twice: still 200, and the first revocation time stays.
  const auto again = del(g_owner_token, id);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 200);
  EXPECT_EQ(text(parse(again->body)["revoked_at"]), revoked_at);
  // The list leaves it out (the panel expects a deleted invite to disappear); asked for, it is
  // there, revoked.
  EXPECT_EQ(get(g_owner_token).value().body.find(id), std::string::npos);
  const std::string all = get(g_owner_token, std::string(kInvites) + "?include_revoked=true").value().body;
  EXPECT_NE(all.find(R"("revoked_at":")" + revoked_at), std::string::npos);
  EXPECT_EQ(get(g_owner_token, std::string(kInvites) + "?include_revoked=maybe").value().status, 400);
}

TEST(AdminRevoke, ConcurrentRevocationsAgreeOnTheFirstTime) {
  const std::string id = text(create()["id"]);
  constexpr int kClients = 8;
  std::vector<std::string> revoked_at(kClients);
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      const auto res = del(g_owner_token, id);
      if (res && res->status == 200) {
        revoked_at[static_cast<std::size_t>(i)] = text(parse(res->body)["revoked_at"]);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (const std::string& at : revoked_at) EXPECT_EQ(at, revoked_at[0]);
  EXPECT_NE(revoked_at[0], "");
  // One record per request, and exactly one of them made the change.
  EXPECT_EQ(g_stack->query("SELECT count(*) FROM audit_log WHERE action = 'invite.revoke'"
                           " AND target_id = $1",
                           {id}),
            std::to_string(kClients));
  EXPECT_EQ(g_stack->query("SELECT count(*) FROM audit_log WHERE action = 'invite.revoke'"
                           " AND target_id = $1 AND details->>'already_revoked' = 'false'",
                           {id}),
            "1");
}

TEST(AdminRevoke, UnknownOrMalformedIdIs404) {
  for (const char* id : {"6b1d9a3e-0000-4000-8000-0000000000ff", "not-a-uuid"}) {
    const auto res = del(g_owner_token, id);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 404) << id;
    EXPECT_EQ(res->body, error_body("not_found", "invite not found")) << id;
  }
}

TEST(AdminRouting, WrongMethodIs405WithAllowAndOtherPathsAre404) {
  auto c = g_stack->client();
  auto res = c->Delete(kInvites, bearer(g_owner_token));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "GET, POST");
  const std::string item = std::string(kInvites) + "/6b1d9a3e-0000-4000-8000-000000000001";
  res = c->Get(item, bearer(g_owner_token));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "DELETE");
  res = c->Post(item, bearer(g_owner_token), "{}", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 405);
  EXPECT_EQ(res->get_header_value("Allow"), "DELETE");
  res = c->Delete(std::string(kInvites) + "/a/b", bearer(g_owner_token));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  EXPECT_EQ(res->body, error_body("not_found", "not found"));
}

// The line of the CLI's table that starts with the invite's id; "" when there is none.
std::string row_of(const std::string& table, const std::string& id) {
  const std::size_t at = table.find("\n" + id);
  if (at == std::string::npos) return "";
  return table.substr(at + 1, table.find('\n', at + 1) - at - 1);
}

// Stored text reaches the operator's terminal escaped: a note written before notes were checked
// (or by hand) cannot move the cursor, recolour the screen or reorder what is shown.
TEST(Cli, InviteListEscapesControlAndBidiCharacters) {
  const std::string id = g_stack->query(
      "INSERT INTO registration_invites (code_hash, code_hint, note)"
      " VALUES (repeat('c', 64), 'CCCC', E'red \\x1b[31m and \\u202Etxt.exe') RETURNING id");
  ASSERT_FALSE(id.empty());
  const CommandResult r = g_stack->script("ctl invite list");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const std::string row = row_of(r.output, id);
  EXPECT_NE(row.find("red \\u{001B}[31m and \\u{202E}txt.exe"), std::string::npos) << row;
  EXPECT_EQ(r.output.find('\x1b'), std::string::npos);
  EXPECT_EQ(r.output.find("\xE2\x80\xAE"), std::string::npos);
  g_stack->query("DELETE FROM registration_invites WHERE id = $1", {id});
}

TEST(Cli, InviteListShowsNoCodeAndRevokeWorks) {
  const rapidjson::Document invite = create(R"({"max_uses":3,"note":"cli check"})");
  const std::string id = text(invite["id"]);
  const std::string code = text(invite["code"]);
  CommandResult r = g_stack->script("ctl invite list");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output.rfind("ID", 0), 0U) << r.output;
  std::string row = row_of(r.output, id);
  ASSERT_FALSE(row.empty()) << r.output;
  EXPECT_NE(row.find(normalize_invite_code(code).substr(0, 4)), std::string::npos) << row;
  EXPECT_NE(row.find("0/3"), std::string::npos) << row;
  EXPECT_NE(row.find("never"), std::string::npos) << row;
  EXPECT_NE(row.find("cli check"), std::string::npos) << row;
  EXPECT_NE(r.output.find("/unlimited"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find(code), std::string::npos);
  EXPECT_EQ(r.output.find(normalize_invite_code(code)), std::string::npos);

  r = g_stack->script("ctl invite revoke " + id);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "revoked " + id + "\n");
  EXPECT_EQ(
      g_stack->query("SELECT revoked_at IS NOT NULL FROM registration_invites WHERE id = $1", {id}),
      "t");
  EXPECT_EQ(g_stack->query("SELECT details->>'source' FROM audit_log WHERE action = "
                           "'invite.revoke' AND target_id = $1 AND actor_id IS NULL",
                           {id}),
            "cli");
  row = row_of(g_stack->script("ctl invite list").output, id);
  EXPECT_TRUE(std::regex_search(row, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ  +cli check$)")))
      << row;  // the revocation time, to the second

  for (const char* unknown : {"6b1d9a3e-0000-4000-8000-0000000000fe", "not-a-uuid"}) {
    r = g_stack->script(std::string("ctl invite revoke ") + unknown);
    EXPECT_EQ(r.exit_code, 1) << r.output;
    EXPECT_EQ(r.output, std::string("chatalotctl: invite not found: ") + unknown + "\n");
  }
  r = g_stack->script("ctl invite revoke");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("invite revoke ID"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace chatalot::testing
