// The session lifecycle end to end, through nginx, on two worker processes per handler, with
// the real PostgreSQL and Redis: login, refresh (rotation, concurrency, reuse detection and its
// grace window), logout, logout-all, the session list, recovery, password change, the account,
// key upload, and the admin's user tools (suspension, the admin flag).
#include <gtest/gtest.h>

#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <ctime>
#include <thread>
#include <vector>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "../fixture.h"
#include "core/json.h"
#include "crypto/jwt.h"
#include "harness.h"
#include "registration.h"

namespace chatalot::testing {
namespace {

constexpr int kGraceSeconds = 2;
constexpr const char* kPassword = "Str0ng!Passw0rd";
constexpr const char* kChrome =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 "
    "Safari/537.36";
constexpr const char* kFirefoxAndroid =
    "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0";

Stack* g_stack = nullptr;
std::string g_owner_token;  // the first account's: the owner

class StackEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    auto env = fast_unlimited_env();
    env["REFRESH_REUSE_GRACE_SECONDS"] = std::to_string(kGraceSeconds);
    g_stack = new Stack("sessions", 2, env);
    const CommandResult r = g_stack->up({{"REGISTRATION_MODE", "open"}});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    // The first account: the owner, for the admin's tests.
    const auto res = g_stack->client()->Post("/api/auth/register", registration_body(registrant("owner")),
                                             "application/json");
    ASSERT_TRUE(res && res->status == 200) << (res ? res->body : "no answer");
    rapidjson::Document d;
    d.Parse(res->body.c_str(), res->body.size());
    ASSERT_TRUE(d.IsObject() && d["user"]["is_owner"].GetBool()) << res->body;
    g_owner_token = d["access_token"].GetString();
  }
  void TearDown() override { delete g_stack; }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new StackEnvironment);

rapidjson::Document parse(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.c_str(), body.size());
  EXPECT_FALSE(doc.HasParseError()) << body;
  if (doc.HasParseError()) doc.SetObject();
  return doc;
}

std::string text(const rapidjson::Value& v, const char* key) {
  const auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsString() ? it->value.GetString() : "";
}

httplib::Headers bearer(const std::string& token) { return {{"Authorization", "Bearer " + token}}; }

httplib::Result post(const std::string& path, const std::string& body, httplib::Headers h = {}) {
  return g_stack->client()->Post(path, h, body, "application/json");
}

struct Tokens {
  std::string access;
  std::string refresh;
};

struct User {
  std::string id;
  std::string username;
  std::string recovery_code;
  Tokens tokens;
};

User registered(const std::string& tag) {
  const Registrant r = registrant(tag);
  const auto res = post("/api/auth/register", registration_body(r), {{"User-Agent", kChrome}});
  EXPECT_TRUE(res && res->status == 200) << (res ? res->body : "no answer");
  if (!res || res->status != 200) return {};
  const rapidjson::Document d = parse(res->body);
  return {text(d["user"], "id"), r.username, text(d, "recovery_code"),
          {text(d, "access_token"), text(d, "refresh_token")}};
}

httplib::Result login_as(const std::string& username, const std::string& password,
                         const std::string& user_agent = kFirefoxAndroid) {
  return post("/api/auth/login",
              R"({"username":")" + username + R"(","password":")" + password + R"(","totp_code":null})",
              {{"User-Agent", user_agent}});
}

Tokens logged_in(const std::string& username, const std::string& password = kPassword) {
  const auto res = login_as(username, password);
  EXPECT_TRUE(res && res->status == 200) << (res ? res->body : "no answer");
  if (!res || res->status != 200) return {};
  const rapidjson::Document d = parse(res->body);
  EXPECT_FALSE(d.HasMember("recovery_code"));
  return {text(d, "access_token"), text(d, "refresh_token")};
}

httplib::Result refresh_with(const std::string& token) {
  return post("/api/auth/refresh", R"({"refresh_token":")" + token + R"("})");
}

// The next pair, or empty tokens when the refresh was refused (the status is checked).
Tokens refreshed(const std::string& token, int expect = 200) {
  const auto res = refresh_with(token);
  EXPECT_TRUE(res);
  if (!res) return {};
  EXPECT_EQ(res->status, expect) << res->body;
  if (res->status != 200) {
    EXPECT_EQ(res->body, R"({"error":{"code":"unauthorized","message":"invalid refresh token"}})");
    return {};
  }
  const rapidjson::Document d = parse(res->body);
  return {text(d, "access_token"), text(d, "refresh_token")};
}

AccessClaims claims_of(const std::string& access_token) {
  Result<JwtVerifier> verifier = JwtVerifier::load(g_stack->dir() + "/keys/jwt_ed25519.pub.pem", kAccessTokenSeconds);
  EXPECT_TRUE(verifier.is_ok());
  if (!verifier.is_ok()) return {};
  Result<AccessClaims> claims = verifier->verify(access_token, std::time(nullptr));
  EXPECT_TRUE(claims.is_ok()) << claims.status().describe();
  return claims.is_ok() ? *claims : AccessClaims{};
}

httplib::Result get(const std::string& path, const std::string& token) {
  return g_stack->client()->Get(path, bearer(token));
}

int status_of(const httplib::Result& res) { return res ? res->status : -1; }

TEST(Sessions, RegisterRefreshLoginElsewhereLogoutOneThenAll) {
  const User u = registered("flow");
  ASSERT_FALSE(u.tokens.refresh.empty());
  const AccessClaims first = claims_of(u.tokens.access);
  EXPECT_EQ(first.sub, u.id);
  EXPECT_FALSE(first.sid.empty());

  Tokens a = refreshed(u.tokens.refresh);
  a = refreshed(a.refresh);
  EXPECT_EQ(claims_of(a.access).sid, first.sid) << "a refresh stays in its session";

  Tokens b = logged_in(u.username);
  EXPECT_NE(claims_of(b.access).sid, first.sid) << "a login starts a session of its own";
  a = refreshed(a.refresh);
  b = refreshed(b.refresh);

  const auto sessions = get("/api/account/sessions", a.access);
  ASSERT_EQ(status_of(sessions), 200);
  const rapidjson::Document list = parse(sessions->body);
  ASSERT_TRUE(list.IsArray());
  ASSERT_EQ(list.Size(), 2U);
  EXPECT_EQ(text(list[0], "device_name"), "Firefox on Android") << "newest first";
  EXPECT_EQ(text(list[1], "device_name"), "Chrome on Linux");
  EXPECT_EQ(text(list[0], "ip_address"), "127.0.0.1");

  const auto out = post("/api/auth/logout", R"({"refresh_token":")" + b.refresh + R"("})");
  ASSERT_EQ(status_of(out), 200);
  EXPECT_EQ(out->body, "{}");
  EXPECT_EQ(status_of(post("/api/auth/logout", R"({"refresh_token":")" + b.refresh + R"("})")), 200)
      << "logout is idempotent";
  refreshed(b.refresh, 401);
  a = refreshed(a.refresh);  // the other session lives on

  const auto all = post("/api/account/logout-all", "{}", bearer(a.access));
  ASSERT_EQ(status_of(all), 200);
  EXPECT_EQ(all->body, R"({"revoked_count":1})");
  refreshed(a.refresh, 401);
  // The access token outlives its session until it expires: logout ends refreshing.
  EXPECT_EQ(status_of(get("/api/account/me", a.access)), 200);
}

TEST(Sessions, ConcurrentRefreshesOfOneTokenGiveExactlyOneSuccess) {
  const User u = registered("race");
  constexpr int kRacers = 16;
  std::atomic<int> ok{0};
  std::atomic<int> unauthorized{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> racers;
  for (int i = 0; i < kRacers; ++i) {
    racers.emplace_back([&] {
      auto c = g_stack->client();
      while (!go) std::this_thread::yield();
      const auto res = c->Post("/api/auth/refresh", R"({"refresh_token":")" + u.tokens.refresh + R"("})",
                               "application/json");
      if (res && res->status == 200) ++ok;
      if (res && res->status == 401) ++unauthorized;
    });
  }
  go = true;
  for (std::thread& t : racers) t.join();
  EXPECT_EQ(ok.load(), 1);
  EXPECT_EQ(unauthorized.load(), kRacers - 1);
  // Inside the grace window the losers ended nothing: the session still refreshes.
  EXPECT_EQ(g_stack->query("SELECT count(*) FROM sessions WHERE user_id = $1 AND revoked_at IS NULL",
                           {u.id}),
            "1");
}

TEST(Sessions, ASpentTokenWithinTheGraceFailsAloneAfterItEndsTheSession) {
  const User u = registered("reuse");
  const Tokens next = refreshed(u.tokens.refresh);
  refreshed(u.tokens.refresh, 401);  // a late twin, within the grace window
  const Tokens after = refreshed(next.refresh);  // the session lives
  ASSERT_FALSE(after.refresh.empty());

  std::this_thread::sleep_for(std::chrono::seconds(kGraceSeconds + 1));
  refreshed(next.refresh, 401);  // spent, presented again: stolen
  refreshed(after.refresh, 401);  // so its live successor is refused too
  EXPECT_EQ(g_stack->query("SELECT revoked_reason FROM sessions WHERE user_id = $1", {u.id}),
            "token_reuse");
}

TEST(Sessions, AnythingThatIsNotALiveTokenIsTheSame401) {
  for (const std::string& body : std::vector<std::string>{
           R"({"refresh_token":""})", R"({"refresh_token":"abc"})",
        R"({"refresh_token":")" + std::string(64, 'f') + R"("})",
        R"({"refresh_token":")" + std::string(64, 'F') + R"("})",
        R"({"refresh_token":"' OR 1=1 --"})"}) {
    const auto res = post("/api/auth/refresh", body);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << body;
  }
  for (const std::string body : {R"({})", R"({"refresh_token":null})", R"({"refresh_token":5})"}) {
    const auto res = post("/api/auth/refresh", body);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << body;
    EXPECT_NE(res->body.find("refresh_token must be a string"), std::string::npos) << res->body;
  }
}

TEST(Recovery, TheCodeFromRegistrationRecoversOnceAndEndsEverySession) {
  const User u = registered("recover");
  const Tokens other = logged_in(u.username);
  const std::string fresh_password = "N3w!Password";
  std::string lower = u.recovery_code;
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  const std::string body = R"({"username":")" + u.username + R"(","recovery_code":")" + lower +
                           R"(","new_password":")" + fresh_password + R"("})";
  const auto res = post("/api/auth/recover", body);
  ASSERT_EQ(status_of(res), 200) << (res ? res->body : "");
  const std::string next_code = text(parse(res->body), "recovery_code");
  EXPECT_EQ(next_code.size(), 19U);
  EXPECT_NE(next_code, u.recovery_code);

  const auto again = post("/api/auth/recover", body);
  ASSERT_EQ(status_of(again), 400);
  EXPECT_EQ(again->body,
            R"({"error":{"code":"validation_error","message":"invalid username or recovery code"}})");
  refreshed(u.tokens.refresh, 401);
  refreshed(other.refresh, 401);
  EXPECT_EQ(status_of(login_as(u.username, kPassword)), 401);
  logged_in(u.username, fresh_password);

  const auto next = post("/api/auth/recover", R"({"username":")" + u.username +
                                                  R"(","recovery_code":")" + next_code +
                                                  R"(","new_password":"Th1rd!Password"})");
  EXPECT_EQ(status_of(next), 200) << "the new code works, once";
}

TEST(Recovery, WrongCodeAndUnknownUserAreTheSameAnswer) {
  const User u = registered("recwrong");
  const auto wrong = post("/api/auth/recover", R"({"username":")" + u.username +
                                                   R"(","recovery_code":"AAAA-BBBB-CCCC-DDDD","new_password":"N3w!Password"})");
  const auto unknown = post("/api/auth/recover", R"({"username":"nobody_here","recovery_code":"AAAA-BBBB-CCCC-DDDD","new_password":"N3w!Password"})");
  ASSERT_TRUE(wrong && unknown);
  EXPECT_EQ(wrong->status, 400);
  EXPECT_EQ(wrong->body, unknown->body);
  const auto weak = post("/api/auth/recover", R"({"username":")" + u.username +
                                                  R"(","recovery_code":")" + u.recovery_code +
                                                  R"(","new_password":"short"})");
  ASSERT_EQ(status_of(weak), 400);
  EXPECT_NE(weak->body.find("password must be at least 8 characters"), std::string::npos);
  logged_in(u.username);  // nothing changed
}

// The median time of n logins.
double median_login_ms(const std::string& username, const std::string& password, int n) {
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    const auto start = std::chrono::steady_clock::now();
    const auto res = login_as(username, password);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count());
    EXPECT_EQ(status_of(res), 401);
  }
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

TEST(Login, UnknownUserAndWrongPasswordAreTheSameAnswerAfterTheSameWork) {
  const User u = registered("timing");
  const auto wrong = login_as(u.username, "Wr0ng!Password");
  const auto unknown = login_as("nobody_at_all", "Wr0ng!Password");
  ASSERT_TRUE(wrong && unknown);
  EXPECT_EQ(wrong->status, 401);
  EXPECT_EQ(wrong->body, unknown->body);
  EXPECT_EQ(wrong->body,
            R"({"error":{"code":"unauthorized","message":"invalid username or password"}})");
  // Interleaved, so that the machine's noise falls on both alike. A hash is the bulk of either:
  // an unknown account answered without one would take a fraction of the time.
  double known_ms = 0;
  double unknown_ms = 0;
  for (int round = 0; round < 3; ++round) {
    known_ms += median_login_ms(u.username, "Wr0ng!Password", 5);
    unknown_ms += median_login_ms("nobody_at_all", "Wr0ng!Password", 5);
  }
  EXPECT_GT(unknown_ms, known_ms * 0.5) << "unknown " << unknown_ms << " ms, known " << known_ms;
  EXPECT_LT(unknown_ms, known_ms * 2.0) << "unknown " << unknown_ms << " ms, known " << known_ms;
}

TEST(Login, UsernameIgnoresCaseAndTheAnswerIsTheAuthResponse) {
  const User u = registered("Case");
  std::string upper = u.username;
  std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
  const auto res = login_as(upper, kPassword);
  ASSERT_EQ(status_of(res), 200) << (res ? res->body : "");
  const rapidjson::Document d = parse(res->body);
  EXPECT_EQ(text(d["user"], "id"), u.id);
  EXPECT_EQ(text(d["user"], "username"), u.username);
  EXPECT_TRUE(d["user"]["avatar_url"].IsNull());
  EXPECT_EQ(text(d["user"], "status"), "offline");
}

TEST(Account, PasswordChangeKeepsThisSessionAndEndsTheOthers) {
  const User u = registered("passwd");
  const Tokens other = logged_in(u.username);
  const auto wrong = g_stack->client()->Put("/api/account/password", bearer(u.tokens.access),
                                            R"({"current_password":"Wr0ng!Password","new_password":"N3w!Password"})",
                                            "application/json");
  ASSERT_EQ(status_of(wrong), 401);
  EXPECT_NE(wrong->body.find("invalid password"), std::string::npos);
  const auto changed = g_stack->client()->Put(
      "/api/account/password", bearer(u.tokens.access),
      R"({"current_password":")" + std::string(kPassword) + R"(","new_password":"N3w!Password"})",
      "application/json");
  ASSERT_EQ(status_of(changed), 200) << (changed ? changed->body : "");
  refreshed(other.refresh, 401);
  refreshed(u.tokens.refresh);
  EXPECT_EQ(status_of(login_as(u.username, kPassword)), 401);
  logged_in(u.username, "N3w!Password");
}

TEST(Account, MeSessionsAndARevokedSessionOfAnother) {
  const User u = registered("me");
  const User v = registered("me2");
  const auto me = get("/api/account/me", u.tokens.access);
  ASSERT_EQ(status_of(me), 200);
  EXPECT_EQ(text(parse(me->body), "id"), u.id);
  EXPECT_EQ(status_of(get("/api/account/me", "not.a.token")), 401);

  const std::string v_session = claims_of(v.tokens.access).sid;
  auto del = g_stack->client()->Delete("/api/account/sessions/" + v_session, bearer(u.tokens.access));
  EXPECT_EQ(status_of(del), 404) << "another account's session";
  refreshed(v.tokens.refresh);
  del = g_stack->client()->Delete("/api/account/sessions/not-a-uuid", bearer(u.tokens.access));
  EXPECT_EQ(status_of(del), 404);
  const std::string own = claims_of(u.tokens.access).sid;
  del = g_stack->client()->Delete("/api/account/sessions/" + own, bearer(u.tokens.access));
  EXPECT_EQ(status_of(del), 200);
  refreshed(u.tokens.refresh, 401);

  const auto code = post("/api/account/regenerate-recovery-code", "{}", bearer(u.tokens.access));
  ASSERT_EQ(status_of(code), 200);
  const std::string fresh = text(parse(code->body), "recovery_code");
  const auto old_code = post("/api/auth/recover", R"({"username":")" + u.username +
                                                      R"(","recovery_code":")" + u.recovery_code +
                                                      R"(","new_password":"N3w!Password"})");
  EXPECT_EQ(status_of(old_code), 400) << "the old code stops working";
  const auto new_code = post("/api/auth/recover", R"({"username":")" + u.username +
                                                      R"(","recovery_code":")" + fresh +
                                                      R"(","new_password":"N3w!Password"})");
  EXPECT_EQ(status_of(new_code), 200);
}

// The real client's flow as far as this service goes: it registers with the captured request,
// then its key-version check uploads a new key set, then it logs in and refreshes.
TEST(ClientFlow, RegisterUploadKeysLoginRefresh) {
  const std::string body = client_register_request();
  ASSERT_FALSE(body.empty());
  const rapidjson::Document sent = parse(body);
  const auto res = post("/api/auth/register", body);
  ASSERT_EQ(status_of(res), 200) << (res ? res->body : "");
  const rapidjson::Document d = parse(res->body);
  const std::string access = text(d, "access_token");
  const std::string user_id = text(d["user"], "id");

  Registrant next = registrant("keys");
  const rapidjson::Document fresh = parse(registration_body(next));
  rapidjson::Document keys;
  keys.SetObject();
  for (const char* k : {"identity_key", "signed_prekey", "one_time_prekeys"}) {
    keys.AddMember(rapidjson::StringRef(k), rapidjson::Value(fresh[k], keys.GetAllocator()),
                   keys.GetAllocator());
  }
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  keys.Accept(w);
  const auto uploaded = post("/api/keys/register", buf.GetString(), bearer(access));
  ASSERT_EQ(status_of(uploaded), 200) << (uploaded ? uploaded->body : "");
  EXPECT_EQ(g_stack->query("SELECT count(*) FROM one_time_prekeys WHERE user_id = $1", {user_id}), "3");
  EXPECT_EQ(g_stack->query("SELECT encode(public_key, 'hex') FROM identity_keys WHERE user_id = $1",
                           {user_id}),
            [&] {
              std::string hex;
              for (const auto& b : fresh["identity_key"].GetArray()) {
                char two[3];
                std::snprintf(two, sizeof two, "%02x", b.GetInt());
                hex += two;
              }
              return hex;
            }());
  const auto bad = post("/api/keys/register", R"({"identity_key":[1,2,3]})", bearer(access));
  ASSERT_EQ(status_of(bad), 400);
  EXPECT_NE(bad->body.find("identity key must be 32 bytes"), std::string::npos);
  EXPECT_EQ(status_of(post("/api/keys/register", buf.GetString())), 401);

  const Tokens t = logged_in(text(sent, "username"), text(sent, "password"));
  refreshed(t.refresh);
}

TEST(AdminUsers, SuspensionEndsSessionsAndBearerAtOnceUnsuspendRestoresLogin) {
  const User u = registered("suspend");
  const std::string path = "/api/admin/users/" + u.id;
  EXPECT_EQ(status_of(post(path + "/suspend", R"({"reason":"spam"})", bearer(u.tokens.access))), 403)
      << "not an admin";
  ASSERT_EQ(status_of(post(path + "/suspend", R"({"reason":"spam"})", bearer(g_owner_token))), 200);
  const auto me = get("/api/account/me", u.tokens.access);
  ASSERT_EQ(status_of(me), 403);
  EXPECT_NE(me->body.find("account is suspended"), std::string::npos);
  refreshed(u.tokens.refresh, 401);
  const auto refused = login_as(u.username, kPassword);
  ASSERT_EQ(status_of(refused), 403);

  const auto list = g_stack->client()->Get("/api/admin/users?search=" + u.username, bearer(g_owner_token));
  ASSERT_EQ(status_of(list), 200);
  const rapidjson::Document users = parse(list->body);
  ASSERT_TRUE(users.IsArray() && users.Size() == 1) << list->body;
  EXPECT_EQ(text(users[0], "suspended_reason"), "spam");
  EXPECT_TRUE(users[0]["groups"].IsArray());

  ASSERT_EQ(status_of(post(path + "/unsuspend", "{}", bearer(g_owner_token))), 200);
  logged_in(u.username);
  EXPECT_EQ(status_of(get("/api/account/me", u.tokens.access)), 200)
      << "earlier tokens work again until they expire";
}

TEST(AdminUsers, ARoleChangeShowsInTheNextRefreshedToken) {
  const User u = registered("promote");
  EXPECT_FALSE(claims_of(u.tokens.access).is_admin);
  const auto set = g_stack->client()->Put("/api/admin/users/" + u.id + "/admin", bearer(g_owner_token),
                                          R"({"is_admin":true})", "application/json");
  ASSERT_EQ(status_of(set), 200) << (set ? set->body : "");
  const Tokens next = refreshed(u.tokens.refresh);
  EXPECT_TRUE(claims_of(next.access).is_admin);
  // An admin who is not the owner may not change the flag.
  const User v = registered("promote2");
  const auto refused = g_stack->client()->Put("/api/admin/users/" + v.id + "/admin", bearer(next.access),
                                              R"({"is_admin":true})", "application/json");
  EXPECT_EQ(status_of(refused), 403);
}

TEST(AdminUsers, SearchIsPlainTextAndParametersAreChecked) {
  registered("pct");
  const auto wild = g_stack->client()->Get("/api/admin/users?search=%25", bearer(g_owner_token));
  ASSERT_EQ(status_of(wild), 200);
  EXPECT_EQ(wild->body, "[]") << "% matches a percent sign, not everything";
  for (const char* q : {"limit=0", "limit=101", "limit=x", "offset=-1", "search=%ZZ"}) {
    EXPECT_EQ(status_of(g_stack->client()->Get(std::string("/api/admin/users?") + q, bearer(g_owner_token))), 400) << q;
  }
  const auto page = g_stack->client()->Get("/api/admin/users?limit=1", bearer(g_owner_token));
  ASSERT_EQ(status_of(page), 200);
  EXPECT_EQ(parse(page->body).Size(), 1U);
}

// The ids of a list, in its order.
std::vector<std::string> ids_in(const httplib::Result& res) {
  std::vector<std::string> ids;
  EXPECT_EQ(status_of(res), 200);
  if (status_of(res) != 200) return ids;
  const rapidjson::Document users = parse(res->body);
  for (const auto& u : users.GetArray()) ids.push_back(text(u, "id"));
  return ids;
}

// Each column is searched ignoring case (through migration 003's trigram indexes, with the
// search's own statement), as plain text, newest first; no term lists everyone newest first.
TEST(AdminUsers, SearchFindsEachColumnIgnoringCaseNewestFirst) {
  const User a = registered("colA");
  const User b = registered("colB");
  const std::string p = a.username.substr(0, a.username.find('_'));  // "u" + this process's tag
  // a keeps its username; its e-mail and b's display name get words of their own.
  g_stack->query("UPDATE users SET email = '" + p + ".Box@Mail.Example' WHERE id = '" + a.id + "'");
  g_stack->query("UPDATE users SET display_name = 'Zed " + p + " Display' WHERE id = '" + b.id + "'");
  const auto search = [](const std::string& term, const std::string& more = "") {
    return ids_in(g_stack->client()->Get("/api/admin/users?search=" + term + more, bearer(g_owner_token)));
  };
  using Ids = std::vector<std::string>;
  EXPECT_EQ(search(p + "_COLA"), Ids{a.id}) << "the username";
  EXPECT_EQ(search("BOX@mail.example"), Ids{a.id}) << "the e-mail";
  EXPECT_EQ(search("zED%20" + p + "%20dISPLAY"), Ids{b.id}) << "the display name";
  EXPECT_EQ(search(p + "_col"), (Ids{b.id, a.id})) << "newest first";
  EXPECT_EQ(search(p + "_col", "&limit=1&offset=1"), Ids{a.id});
  EXPECT_EQ(search(p.substr(0, p.size() - 1) + "__col"), Ids{}) << "_ matches itself only";
  EXPECT_EQ(search(p + "%25col"), Ids{}) << "% matches itself only";
  EXPECT_EQ(ids_in(g_stack->client()->Get("/api/admin/users?limit=2", bearer(g_owner_token))),
            (Ids{b.id, a.id}));
}

}  // namespace
}  // namespace chatalot::testing

namespace chatalot::testing {
namespace {

// Redis away: what needs it (login's budgets) answers 503 at once, fail closed; refresh and
// logout need PostgreSQL only and go on. PostgreSQL away: 503; both recover by themselves.
TEST(Faults, EachEndpointNeedsOnlyItsOwnDependencies) {
  const User u = registered("faults");
  ASSERT_EQ(g_stack->signal_redis("KILL").exit_code, 0);  // every node of a cluster
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const auto start = std::chrono::steady_clock::now();
  const auto refused = login_as(u.username, kPassword);
  ASSERT_EQ(status_of(refused), 503) << (refused ? refused->body : "");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_FALSE(refused->get_header_value("Retry-After").empty());
  const Tokens next = refreshed(u.tokens.refresh);
  EXPECT_EQ(status_of(get("/api/account/me", next.access)), 200);
  ASSERT_EQ(g_stack->up().exit_code, 0);  // Redis back: login works without a restart
  const Tokens fresh = logged_in(u.username);

  const CommandResult stop = run_command("runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D '" +
                                         g_stack->dir() + "/pg/data' -w -m immediate stop");
  ASSERT_EQ(stop.exit_code, 0) << stop.output;
  EXPECT_EQ(status_of(refresh_with(fresh.refresh)), 503);
  EXPECT_EQ(status_of(get("/api/account/me", fresh.access)), 503);
  ASSERT_EQ(g_stack->up().exit_code, 0);
  refreshed(fresh.refresh);  // the 503 spent nothing
}

// Migration 002 on a database that 001 made and registrations filled: each refresh token
// becomes a session of its own (the token's id is the session's), revoked ones revoked.
TEST(Migrations, RefreshTokensOfEarlierRegistrationsBecomeSessions) {
  const std::string psql = "/usr/lib/postgresql/15/bin/psql -v ON_ERROR_STOP=1 -q -h '" +
                           g_stack->run_dir() + "' ";
  ASSERT_EQ(run_command(psql + "-U postgres -c 'CREATE DATABASE chatalot_v1 OWNER chatalot' postgres").exit_code, 0);
  const std::string v1 = psql + "-U chatalot chatalot_v1 ";
  CommandResult r = run_command(v1 + "-f '" + source_dir() +
                                "/sql/001_initial.sql' -c \"CREATE TABLE schema_version (version integer"
                                " PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now());"
                                " INSERT INTO schema_version VALUES (1, '001_initial');"
                                " INSERT INTO users (id, username, email, password_hash, display_name,"
                                "  recovery_code_hash) VALUES ('11111111-1111-4111-8111-111111111111', 'old',"
                                "  'old@example.com', '\\$argon2id\\$x', 'old', repeat('a', 64));"
                                " INSERT INTO refresh_tokens (id, user_id, token_hash, expires_at, revoked_at)"
                                "  VALUES ('22222222-2222-4222-8222-222222222222',"
                                "  '11111111-1111-4111-8111-111111111111', repeat('b', 64), now() + interval '1 day', NULL),"
                                "  ('33333333-3333-4333-8333-333333333333',"
                                "  '11111111-1111-4111-8111-111111111111', repeat('c', 64), now() + interval '1 day', now())\"");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_command("DATABASE_URL='postgresql:///chatalot_v1?host=" + g_stack->run_dir() +
                  "&user=chatalot' '" + build_dir() + "/cli/chatalotctl' migrate");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("schema at version 3"), std::string::npos) << r.output;
  const std::string rows = run_command(v1 + "-tAc \"SELECT string_agg(t.id || ':' || (s.id = t.id) || ':' ||"
                                            " (s.revoked_at IS NOT NULL), ',' ORDER BY t.id) FROM"
                                            " refresh_tokens t JOIN sessions s ON s.id = t.session_id\"").output;
  EXPECT_EQ(rows,
            "22222222-2222-4222-8222-222222222222:true:false,"
            "33333333-3333-4333-8333-333333333333:true:true\n");
  run_command(psql + "-U postgres -c 'DROP DATABASE chatalot_v1' postgres");
}

// The Argon2 cost raised (ARGON2_ITERATIONS 2 -> 3) and the login handlers restarted: the next
// login stores the password hashed at the new cost. The login handlers stay at that cost for
// the tests after it (only slower).
// Stops both pools of each handler and starts them again with env (the others keep running).
void restart(std::initializer_list<std::string> handlers,
             const std::map<std::string, std::string>& env) {
  std::vector<pid_t> stopped;
  for (const std::string& h : handlers) {
    for (const std::string& pool : {h, h + ".2"}) {
      stopped.push_back(g_stack->handler_pid(pool));
      ::kill(stopped.back(), SIGTERM);
    }
  }
  for (const pid_t pid : stopped) {
    for (int i = 0; i < 200 && process_running(pid); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(g_stack->up(env).exit_code, 0);
}

TEST(Login, AHashOfAnotherCostIsReplacedOnLogin) {
  const User u = registered("rehash");
  const std::string before = g_stack->query("SELECT password_hash FROM users WHERE id = $1", {u.id});
  EXPECT_NE(before.find("t=2,"), std::string::npos) << before;
  restart({"login"}, {{"ARGON2_ITERATIONS", "3"}});
  logged_in(u.username);
  const std::string after = g_stack->query("SELECT password_hash FROM users WHERE id = $1", {u.id});
  EXPECT_NE(after.find("t=3,"), std::string::npos) << after;
  logged_in(u.username);  // and the new hash verifies
  EXPECT_EQ(g_stack->query("SELECT password_hash FROM users WHERE id = $1", {u.id}), after)
      << "hashed again only when the cost differs";
}

// ACCESS_TOKEN_SECONDS and SESSION_DAYS lowered, the signing and verifying handlers restarted:
// new tokens and sessions have the new lifetimes, and a longer token issued before is refused.
TEST(Lifetimes, TokensAndSessionsLastWhatIsConfigured) {
  const User u = registered("lifetime");
  EXPECT_EQ(status_of(get("/api/account/me", u.tokens.access)), 200);
  restart({"login", "refresh", "account"}, {{"ACCESS_TOKEN_SECONDS", "120"}, {"SESSION_DAYS", "2"}});

  const Tokens t = logged_in(u.username);
  const AccessClaims claims = claims_of(t.access);
  EXPECT_EQ(claims.exp - claims.iat, 120);
  const std::string days_left =
      "SELECT round(extract(epoch FROM s.expires_at - now()) / 3600) FROM sessions s"
      " JOIN refresh_tokens r ON r.session_id = s.id WHERE r.token_hash = encode(sha256(convert_to($1, 'UTF8')), 'hex')";
  EXPECT_EQ(g_stack->query(days_left, {t.refresh}), "48");
  EXPECT_EQ(status_of(get("/api/account/me", t.access)), 200);

  // The registration's session: its next refresh gives it the new lifetime.
  const Tokens next = refreshed(u.tokens.refresh);
  EXPECT_EQ(claims_of(next.access).exp - claims_of(next.access).iat, 120);
  EXPECT_EQ(g_stack->query(days_left, {next.refresh}), "48");

  // The registration's 900 s token claims more than the handlers now issue.
  const auto res = get("/api/account/me", u.tokens.access);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  EXPECT_NE(res->body.find("invalid token"), std::string::npos) << res->body;
}

}  // namespace
}  // namespace chatalot::testing
