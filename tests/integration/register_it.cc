// POST /api/auth/register end to end: nginx, two worker processes per handler, PostgreSQL.
#include <gtest/gtest.h>

#include <atomic>
#include <regex>
#include <thread>

#include "core/codes.h"
#include "crypto/crypto.h"
#include "harness.h"
#include "../fixture.h"
#include "core/json.h"
#include "http/json_writer.h"
#include "crypto/jwt.h"
#include "registration.h"

namespace chatalot::testing {
namespace {

Stack* g_stack = nullptr;
std::string g_mode;  // the mode the stack runs in

// Two pools per handler, so every concurrency test spans processes; Argon2 at the OWASP floor
// to keep the suite fast (the cost does not change what is tested).
class StackEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    // All from one address: the limits are limits_it's subject, not this suite's.
    g_stack = new Stack("register", 2, fast_unlimited_env());
    const CommandResult r = g_stack->up({{"REGISTRATION_MODE", "invite_only"}});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    g_mode = "invite_only";
  }
  void TearDown() override { delete g_stack; }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new StackEnvironment);

void restart(const std::string& mode, const std::map<std::string, std::string>& extra = {}) {
  ASSERT_EQ(g_stack->down().exit_code, 0);
  std::map<std::string, std::string> env = extra;
  env["REGISTRATION_MODE"] = mode;
  const CommandResult r = g_stack->up(env);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  g_mode = mode;
}

std::string error_body(const std::string& code, const std::string& message) {
  return R"({"error":{"code":")" + code + R"(","message":")" + message + R"("}})";
}

int count_rows(const std::string& table) { return std::stoi(g_stack->query("SELECT count(*) FROM " + table)); }

// Every table a registration writes, as one comparable string of counts.
std::string footprint() {
  std::string s;
  for (const char* t : {"users", "identity_keys", "signed_prekeys", "one_time_prekeys",
                        "refresh_tokens", "sessions", "audit_log", "instance_owner"}) {
    s += std::string(t) + "=" + std::to_string(count_rows(t)) + " ";
  }
  return s + "used=" + g_stack->query("SELECT coalesce(sum(used_count), 0) FROM registration_invites");
}

std::string create_invite(const std::string& args = "") {
  const CommandResult r = g_stack->script("ctl invite create " + args);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::smatch m;
  const std::regex line("(^|\n)([0-9A-Z]{4}(-[0-9A-Z]{4}){6})\n");
  EXPECT_TRUE(std::regex_search(r.output, m, line)) << r.output;
  return m.size() > 2 ? m[2].str() : "";
}

int used_count(const std::string& code) {
  return std::stoi(g_stack->query(
      "SELECT used_count FROM registration_invites WHERE code_hash = $1",
      {sha256_hex(normalize_invite_code(code))}));
}

httplib::Result post(const std::string& body) {
  return g_stack->client()->Post("/api/auth/register", body, "application/json");
}

class Register : public ::testing::Test {
 protected:
  // A fresh instance before each test: no account, no invite.
  void SetUp() override {
    if (g_mode != "invite_only") restart("invite_only");
    g_stack->query(
        "TRUNCATE users, instance_owner, identity_keys, signed_prekeys, one_time_prekeys,"
        " refresh_tokens, audit_log, registration_invites CASCADE");
  }
};

TEST_F(Register, ClosedModeRefusesWithTheExactMessageAndTheModeQueryAgrees) {
  restart("closed");
  const auto res = post(registration_body(registrant("closed")));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(res->body, error_body("validation_error", "registration is currently disabled"));
  const auto mode = g_stack->client()->Get("/api/auth/config");
  ASSERT_TRUE(mode);
  EXPECT_NE(mode->body.find("\"closed\""), std::string::npos);
  EXPECT_EQ(count_rows("users"), 0);
}

TEST_F(Register, InviteOnlyWantsAGoodCode) {
  const std::string code = create_invite();
  auto res = post(registration_body(registrant("nocode")));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(res->body, error_body("validation_error", "an invite code is required to register"));
  res = post(registration_body(registrant("badcode", "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG")));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(res->body,
            error_body("validation_error", "invalid, expired, or fully used invite code"));
  EXPECT_EQ(count_rows("users"), 0);
  // Normalised: lower case, blanks and dashes do not matter.
  std::string typed = code;
  for (char& c : typed) c = static_cast<char>(std::tolower(c));
  typed = " " + typed.substr(0, 9) + " " + typed.substr(9) + " ";
  res = post(registration_body(registrant("goodcode", typed)));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(used_count(code), 1);
  EXPECT_EQ(g_stack->query("SELECT count(*) FROM users u JOIN registration_invites i"
                           " ON u.invite_id = i.id"),
            "1");
}

TEST_F(Register, ExpiredAndRevokedInvitesAreRefusedAlike) {
  const std::string expired = create_invite();
  g_stack->query("UPDATE registration_invites SET expires_at = now() - interval '1 second'");
  const std::string revoked = create_invite("--max-uses 5");
  g_stack->query("UPDATE registration_invites SET revoked_at = now() WHERE max_uses = 5");
  for (const std::string& code : {expired, revoked}) {
    const auto res = post(registration_body(registrant("x", code)));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body,
              error_body("validation_error", "invalid, expired, or fully used invite code"));
  }
}

TEST_F(Register, OpenModeNeedsNoInvite) {
  restart("open");
  const auto res = post(registration_body(registrant("open", "whatever")));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
}

TEST_F(Register, ResponseShapeAndTokenClaims) {
  const std::string code = create_invite();
  const Registrant r = registrant("Shape", code);
  const std::int64_t before = std::time(nullptr);
  const auto res = post(registration_body(r));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  Result<rapidjson::Document> doc = parse_json_object(res->body);
  ASSERT_TRUE(doc.is_ok());
  const rapidjson::Value& user = (*doc)["user"];
  EXPECT_TRUE(std::regex_match(std::string((*doc)["refresh_token"].GetString()),
                               std::regex("[0-9a-f]{64}")));
  EXPECT_TRUE(std::regex_match(std::string((*doc)["recovery_code"].GetString()),
                               std::regex("[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}")));
  EXPECT_EQ(std::string(user["username"].GetString()), r.username);
  EXPECT_EQ(std::string(user["display_name"].GetString()), r.username);
  EXPECT_TRUE(user["avatar_url"].IsNull());
  EXPECT_TRUE(user["banner_url"].IsNull());
  EXPECT_TRUE(user["custom_status"].IsNull());
  EXPECT_EQ(std::string(user["status"].GetString()), "offline");
  EXPECT_TRUE(std::regex_match(std::string(user["created_at"].GetString()),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)")));
  EXPECT_EQ(user.MemberCount(), 10U);
  EXPECT_EQ(doc->MemberCount(), 4U);

  Result<Ed25519Key> key = Ed25519Key::load_public_pem(g_stack->dir() + "/keys/jwt_ed25519.pub.pem");
  ASSERT_TRUE(key.is_ok());
  const std::string token = (*doc)["access_token"].GetString();
  EXPECT_EQ(token.substr(0, token.find('.')), base64url_encode(R"({"alg":"EdDSA","typ":"JWT"})"));
  Result<AccessClaims> claims = verify_access_token(*key, token, std::time(nullptr), 0, kAccessTokenSeconds);
  ASSERT_TRUE(claims.is_ok()) << claims.status().message();
  EXPECT_EQ(claims->sub, std::string(user["id"].GetString()));
  EXPECT_EQ(claims->username, r.username);
  EXPECT_EQ(claims->aud, "chatalot");
  EXPECT_GE(claims->iat, before);
  EXPECT_EQ(claims->exp, claims->iat + 900);
  EXPECT_FALSE(claims->jti.empty());
  EXPECT_EQ(claims->is_admin, user["is_admin"].GetBool());
  EXPECT_EQ(claims->is_owner, user["is_owner"].GetBool());
}

TEST_F(Register, FirstAccountIsOwnerAndAdminTheSecondIsNeither) {
  const std::string code = create_invite();
  const auto first = post(registration_body(registrant("first", code)));
  const auto second = post(registration_body(registrant("second", code)));
  ASSERT_TRUE(first);
  ASSERT_TRUE(second);
  EXPECT_NE(first->body.find(R"("is_admin":true,"is_owner":true)"), std::string::npos) << first->body;
  EXPECT_NE(second->body.find(R"("is_admin":false,"is_owner":false)"), std::string::npos) << second->body;
  EXPECT_EQ(g_stack->query("SELECT username FROM users WHERE is_owner AND is_admin"),
            registrant("first").username);
  EXPECT_EQ(g_stack->query("SELECT count(*) FROM users WHERE is_admin"), "1");
}

// Runs one registration per body at once, from as many client threads; returns the statuses.
std::vector<int> register_concurrently(const std::vector<std::string>& bodies,
                                       std::vector<std::string>* responses = nullptr) {
  std::vector<int> statuses(bodies.size(), 0);
  std::vector<std::string> out(bodies.size());
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    threads.emplace_back([&, i] {
      auto c = g_stack->client();
      while (!go.load()) std::this_thread::yield();
      const auto res = c->Post("/api/auth/register", bodies[i], "application/json");
      statuses[i] = res ? res->status : -1;
      out[i] = res ? res->body : "";
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  if (responses != nullptr) *responses = out;
  return statuses;
}

TEST_F(Register, FiftyConcurrentFirstRegistrationsYieldExactlyOneOwner) {
  const std::string code = create_invite();
  std::vector<std::string> bodies;
  for (int i = 0; i < 50; ++i) bodies.push_back(registration_body(registrant("c" + std::to_string(i), code)));
  std::vector<std::string> responses;
  const std::vector<int> statuses = register_concurrently(bodies, &responses);
  int owners = 0;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    EXPECT_EQ(statuses[i], 200) << responses[i];
    owners += responses[i].find(R"("is_owner":true)") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(owners, 1);
  EXPECT_EQ(g_stack->query("SELECT count(*) FROM users"), "50");
  EXPECT_EQ(g_stack->query("SELECT count(*) FROM users WHERE is_owner"), "1");
  EXPECT_EQ(g_stack->query("SELECT count(*) FROM users WHERE is_admin"), "1");
  EXPECT_EQ(g_stack->query("SELECT count(*) FROM users u JOIN instance_owner o ON o.user_id = u.id"
                           " WHERE u.is_owner"),
            "1");
  // Both worker processes took part.
  EXPECT_NE(read_file(g_stack->log_path("register")).find("status=200"), std::string::npos);
  EXPECT_NE(read_file(g_stack->log_path("register.2")).find("status=200"), std::string::npos);
}

TEST_F(Register, AnInviteWithThreeUsesAdmitsThreeOfThirty) {
  ASSERT_EQ(post(registration_body(registrant("owner", create_invite()))).value().status, 200);
  const std::string code = create_invite("--max-uses 3");
  std::vector<std::string> bodies;
  for (int i = 0; i < 30; ++i) bodies.push_back(registration_body(registrant("m" + std::to_string(i), code)));
  std::vector<std::string> responses;
  const std::vector<int> statuses = register_concurrently(bodies, &responses);
  int ok = 0;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    if (statuses[i] == 200) {
      ++ok;
    } else {
      EXPECT_EQ(statuses[i], 400);
      EXPECT_EQ(responses[i],
                error_body("validation_error", "invalid, expired, or fully used invite code"));
    }
  }
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(used_count(code), 3);
  EXPECT_EQ(g_stack->query("SELECT count(*) FROM users u JOIN registration_invites i ON"
                           " u.invite_id = i.id WHERE i.max_uses = 3"),
            "3");
}

TEST_F(Register, SameUsernameInAnotherCaseAtOnceIsOneAccountAndOneInviteUse) {
  const std::string code = create_invite("--max-uses 10");
  Registrant a = registrant("twin", code);
  Registrant b = a;
  for (char& c : b.username) c = static_cast<char>(std::toupper(c));
  b.email = "other_" + a.email;
  std::vector<std::string> responses;
  std::vector<int> statuses = register_concurrently({registration_body(a), registration_body(b)}, &responses);
  std::sort(statuses.begin(), statuses.end());
  EXPECT_EQ(statuses, (std::vector<int>{200, 409}));
  for (const std::string& r : responses) {
    if (r.find("conflict") != std::string::npos) {
      EXPECT_EQ(r, error_body("conflict", "username already taken"));
    }
  }
  EXPECT_EQ(used_count(code), 1);
  EXPECT_EQ(count_rows("users"), 1);
}

TEST_F(Register, ConflictsComeInTheContractsOrder) {
  const std::string code = create_invite("--max-uses 10");
  const Registrant a = registrant("taken", code);
  ASSERT_EQ(post(registration_body(a)).value().status, 200);
  Registrant same_name = registrant("other", code);
  same_name.username = a.username;
  same_name.email = a.email;  // both taken: the username is reported
  EXPECT_EQ(post(registration_body(same_name)).value().body, error_body("conflict", "username already taken"));
  Registrant same_email = registrant("other2", code);
  same_email.email = a.email;
  for (char& ch : same_email.email) ch = static_cast<char>(std::toupper(ch));  // ignoring case
  EXPECT_EQ(post(registration_body(same_email)).value().body, error_body("conflict", "email already registered"));
  // Without a usable invite nobody learns that a username or an address exists (SPEC section 3,
  // step 7 before step 8): a taken username or e-mail with a bad invite is the invite's 400.
  Registrant both = same_name;
  both.invite_code = "ZZZZ-ZZZZ";
  EXPECT_EQ(post(registration_body(both)).value().body,
            error_body("validation_error", "invalid, expired, or fully used invite code"));
  Registrant known_email = registrant("probe", "ZZZZ-ZZZZ");
  known_email.email = a.email;
  EXPECT_EQ(post(registration_body(known_email)).value().body,
            error_body("validation_error", "invalid, expired, or fully used invite code"));
}

// A lone surrogate escape decodes to bytes that are not UTF-8: a 400 naming the field before
// any hash, and nothing reaches PostgreSQL (SPEC guarantee 8).
TEST_F(Register, ALoneSurrogateEscapeIsA400NamingTheField) {
  const std::string code = create_invite("--max-uses 5");
  const std::string before = footprint();
  for (const char* field : {"display_name", "username", "email", "password"}) {
    std::string body = registration_body(registrant(std::string("surrogate") + field[0], code));
    // First in the object, so RapidJSON (which keeps the first of duplicate keys) reads it.
    body.insert(1, std::string("\"") + field + "\":\"ab\\udc00\",");
    const auto res = post(body);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body,
              error_body("validation_error", std::string(field) + " must be valid Unicode text"));
  }
  EXPECT_EQ(footprint(), before);
  EXPECT_EQ(used_count(code), 0);
}

TEST_F(Register, ARejectedRegistrationSpendsNoInviteUseAndLeavesNoTrace) {
  const std::string code = create_invite("--max-uses 5");
  const Registrant taken = registrant("first", code);
  ASSERT_EQ(post(registration_body(taken)).value().status, 200);
  const std::string before = footprint();

  Registrant bad_sig = registrant("badsig", code);
  bad_sig.bad_signature = true;
  Registrant weak = registrant("weak", code);
  weak.password = "password";
  Registrant dup = registrant("dup", code);
  dup.username = taken.username;
  Registrant bad_email = registrant("bademail", code);
  bad_email.email = "not-an-email";
  Registrant many_keys = registrant("manykeys", code);
  many_keys.one_time_prekeys = 201;
  const std::pair<Registrant, std::string> cases[] = {
      {bad_sig, error_body("validation_error", "signed prekey signature verification failed")},
      {weak, error_body("validation_error", "password must contain at least one uppercase letter")},
      {dup, error_body("conflict", "username already taken")},
      {bad_email, error_body("validation_error", "invalid email format")},
      {many_keys, error_body("validation_error", "too many one-time prekeys (at most 200)")},
  };
  for (const auto& [r, expected] : cases) {
    const auto res = post(registration_body(r));
    ASSERT_TRUE(res);
    EXPECT_EQ(res->body, expected);
  }
  EXPECT_EQ(footprint(), before);
  EXPECT_EQ(used_count(code), 1);
}

TEST_F(Register, HostileBodiesGetClearErrorsAndChangeNothing) {
  const std::string code = create_invite();
  const std::string before = footprint();
  auto c = g_stack->client();
  const std::string valid = registration_body(registrant("hostile", code));
  const std::pair<std::string, std::string> bodies[] = {
      {"", "request body must be valid JSON"},
      {"{", "request body must be valid JSON"},
      {"[]", "request body must be a JSON object"},
      {"null", "request body must be a JSON object"},
      {valid.substr(0, valid.size() / 2), "request body must be valid JSON"},
      {"{\"username\":\"\xc3\x28\"}", "request body must be valid UTF-8"},
      {std::string(60000, '['), "request body must be valid JSON"},
      {R"({"invite_code":7})", "invite_code must be a string"},
  };
  for (const auto& [body, message] : bodies) {
    const auto res = c->Post("/api/auth/register", body, "application/json");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << body.substr(0, 40);
    EXPECT_EQ(res->body, error_body("validation_error", message)) << body.substr(0, 40);
  }
  const auto text = c->Post("/api/auth/register", valid, "text/plain");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->status, 415);
  const auto big = c->Post("/api/auth/register", std::string(70000, ' '), "application/json");
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  const auto get = c->Get("/api/auth/register");
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 405);
  EXPECT_EQ(get->get_header_value("Allow"), "POST");
  EXPECT_EQ(footprint(), before);
  // Every worker is still there and serving.
  EXPECT_EQ(post(valid).value().status, 200);
}

TEST_F(Register, TheChatalotClientsOwnRequestIsAccepted) {
  // The captured request carries the invite code "INVITE-1234": seed an invite with that code.
  g_stack->query("INSERT INTO registration_invites (code_hash, code_hint) VALUES ($1, '1NV1')",
                 {sha256_hex(normalize_invite_code("INVITE-1234"))});
  const std::string body = client_register_request();
  ASSERT_GT(body.size(), 40000U);
  const auto res = g_stack->client()->Post("/api/auth/register", {{"Origin", "http://127.0.0.1"}},
                                           body, "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_NE(res->body.find(R"("username":"alice_test","display_name":"Alice Test")"), std::string::npos);
  EXPECT_EQ(g_stack->query("SELECT count(*) FROM one_time_prekeys"), "100");
  EXPECT_EQ(g_stack->query("SELECT count(*) FROM signed_prekeys"), "1");
}

TEST_F(Register, AdminUsernamePromotesAnExistingAccountAtStartOnly) {
  const std::string code = create_invite("--max-uses 5");
  ASSERT_EQ(post(registration_body(registrant("owner", code))).value().status, 200);
  const Registrant carol = registrant("carol", code);
  ASSERT_EQ(post(registration_body(carol)).value().status, 200);
  std::string upper = carol.username;
  for (char& ch : upper) ch = static_cast<char>(std::toupper(ch));
  restart("invite_only", {{"ADMIN_USERNAME", upper}});
  EXPECT_EQ(g_stack->query("SELECT is_admin FROM users WHERE username = $1", {carol.username}), "t");
  EXPECT_EQ(g_stack->query("SELECT is_owner FROM users WHERE username = $1", {carol.username}), "f");
  EXPECT_EQ(g_stack->query("SELECT count(*) FROM audit_log WHERE action = 'user.promote_admin'"), "1");
  EXPECT_NE(read_file(g_stack->log_path("register")).find("promoted " + carol.username),
            std::string::npos);
  // Never at registration time: an account registered later under that name stays a user.
  restart("invite_only", {{"ADMIN_USERNAME", "dave_later"}});
  Registrant dave = registrant("x", code);
  dave.username = "dave_later";
  const auto res = post(registration_body(dave));
  ASSERT_TRUE(res);
  EXPECT_NE(res->body.find(R"("is_admin":false)"), std::string::npos) << res->body;
  EXPECT_EQ(g_stack->query("SELECT is_admin FROM users WHERE username = 'dave_later'"), "f");
  restart("invite_only");
}

TEST_F(Register, NoSecretIsStoredInPlainText) {
  const std::string code = create_invite();
  Registrant r = registrant("secret", code);
  r.password = "Unique!Secret7Pass";
  const auto res = post(registration_body(r));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  Result<rapidjson::Document> doc = parse_json_object(res->body);
  const std::string refresh = (*doc)["refresh_token"].GetString();
  const std::string recovery = (*doc)["recovery_code"].GetString();
  const CommandResult dump = run_command("/usr/lib/postgresql/15/bin/pg_dump -h '" + g_stack->run_dir() +
                                         "' -U chatalot --data-only chatalot");
  ASSERT_EQ(dump.exit_code, 0) << dump.output;
  ASSERT_NE(dump.output.find(r.username), std::string::npos);  // the dump holds the data
  const std::string normalized = normalize_invite_code(code);
  for (const std::string& secret : {r.password, refresh, recovery, code, normalized,
                                    normalized.substr(4)}) {
    EXPECT_EQ(dump.output.find(secret), std::string::npos) << "stored in plain text: " << secret;
  }
  EXPECT_EQ(g_stack->query("SELECT password_hash LIKE '$argon2id$v=19$m=19456,t=2,p=1$%' FROM users"), "t");
  EXPECT_EQ(g_stack->query("SELECT token_hash FROM refresh_tokens"), sha256_hex(refresh));
  EXPECT_EQ(g_stack->query("SELECT recovery_code_hash FROM users"), sha256_hex(recovery));
  EXPECT_EQ(g_stack->query("SELECT code_hash FROM registration_invites"), sha256_hex(normalized));
}

// PostgreSQL stopped the hard way (as a crash would), then started again by `up`.
void crash_postgres() {
  const CommandResult r = run_command("runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D '" +
                                      g_stack->dir() + "/pg/data' -w -m immediate stop");
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

TEST_F(Register, PostgresqlAwayIs503QuicklyAndServiceResumesByItself) {
  const std::string code = create_invite("--max-uses 10");
  ASSERT_EQ(post(registration_body(registrant("before", code))).value().status, 200);
  crash_postgres();
  const auto start = std::chrono::steady_clock::now();
  const auto res = post(registration_body(registrant("during", code)));
  ASSERT_TRUE(res);
  // Through pgbouncer, the first request waits its query_wait_timeout (1 s) for a server.
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            std::chrono::milliseconds(behind_pooler() ? 2500 : 1000));
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(res->get_header_value("Retry-After"), "5");
  EXPECT_EQ(res->body, error_body("service_unavailable", "the service is temporarily unavailable"));
  ASSERT_EQ(g_stack->up().exit_code, 0);  // starts PostgreSQL only: the handlers still run
  for (int i = 0; i < 4; ++i) {  // every worker process recovers, none needs a restart
    const auto again = post(registration_body(registrant("after" + std::to_string(i), code)));
    ASSERT_TRUE(again);
    EXPECT_EQ(again->status, 200) << again->body;
  }
}

TEST_F(Register, ACrashMidWayLeavesEachRegistrationWholeOrAbsent) {
  const std::string code = create_invite();
  std::vector<std::string> bodies;
  for (int i = 0; i < 40; ++i) bodies.push_back(registration_body(registrant("crash" + std::to_string(i), code)));
  std::vector<std::string> responses;
  std::thread crasher([] {
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    crash_postgres();
  });
  const std::vector<int> statuses = register_concurrently(bodies, &responses);
  crasher.join();
  ASSERT_EQ(g_stack->up().exit_code, 0);
  int ok = 0;
  for (std::size_t i = 0; i < statuses.size(); ++i) {
    EXPECT_TRUE(statuses[i] == 200 || statuses[i] == 503) << statuses[i] << " " << responses[i];
    ok += statuses[i] == 200 ? 1 : 0;
  }
  const int users = count_rows("users");
  EXPECT_GE(users, ok);  // a commit whose answer was lost to the crash may exist too
  // Every account that exists is whole: keys, token, audit record, invite use.
  EXPECT_EQ(count_rows("identity_keys"), users);
  EXPECT_EQ(count_rows("signed_prekeys"), users);
  EXPECT_EQ(count_rows("one_time_prekeys"), 3 * users);
  EXPECT_EQ(count_rows("refresh_tokens"), users);
  EXPECT_EQ(count_rows("sessions"), users);  // each registration starts one session
  EXPECT_EQ(g_stack->query("SELECT count(*) FROM audit_log WHERE action = 'user.register'"),
            std::to_string(users));
  EXPECT_EQ(used_count(code), users);
  EXPECT_EQ(g_stack->query("SELECT count(*) FROM users WHERE is_owner"), users > 0 ? "1" : "0");
}

TEST(Cli, MigrateIsIdempotentAndInviteCreateValidates) {
  CommandResult r = g_stack->script("ctl migrate");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("schema at version 3"), std::string::npos) << r.output;
  r = g_stack->script("ctl invite create --expires-in-hours 9000");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("expires_in_hours must be between 1 and 8760"), std::string::npos) << r.output;
  r = g_stack->script("ctl invite create --max-uses 0");
  EXPECT_EQ(r.exit_code, 2);
  r = g_stack->script("ctl invite create --max-uses two");
  EXPECT_EQ(r.exit_code, 2);
  r = g_stack->script("ctl frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.output.find("usage: chatalotctl"), std::string::npos);
  const CommandResult code_only = run_command(
      "(CHATALOT_STACK_DIR='" + g_stack->dir() + "' '" + source_dir() +
      "/scripts/stack' ctl invite create --note 'for the team' 2>/dev/null)");
  EXPECT_TRUE(std::regex_match(code_only.output, std::regex("[0-9A-Z]{4}(-[0-9A-Z]{4}){6}\n")))
      << code_only.output;
}

TEST(Schema, HandlersRefuseAnotherSchemaVersion) {
  g_stack->query("INSERT INTO schema_version (version, name) VALUES (99, 'from_the_future')");
  const std::string log = g_stack->dir() + "/logs/schema-check.log";
  const pid_t pid = spawn({build_dir() + "/handlers/chatalot-register", "--listen",
                           "unix:" + g_stack->run_dir() + "/schema-check.sock"},
                          {{"DATABASE_URL", g_stack->database_url()},
                           {"REDIS_URL", "unix://" + g_stack->run_dir() + "/redis.sock"},
                           {"JWT_PRIVATE_KEY_PATH", g_stack->dir() + "/keys/jwt_ed25519.pem"}},
                          log);
  const int exit_code = wait_exit(pid, 10000);
  g_stack->query("DELETE FROM schema_version WHERE version = 99");
  EXPECT_EQ(exit_code, 1);
  EXPECT_NE(read_file(log).find("database schema is at version 99, newer than this build (3)"),
            std::string::npos)
      << read_file(log);
}

}  // namespace
}  // namespace chatalot::testing
