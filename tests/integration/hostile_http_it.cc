// Hostile HTTP through nginx, table-driven, on every endpoint: lying and oversized lengths,
// chunked bodies, wrong and missing media types, empty and truncated bodies, deep nesting,
// huge numbers and strings, duplicate keys, invalid and overlong UTF-8, lone surrogate escapes
// and NUL in every string field, every field with every wrong type, top-level non-objects,
// path tricks, malformed ids and query parameters, bodies on bodiless methods, bad bearers and
// wrong methods. Each must be answered with a 4xx JSON error of the contract, never a 5xx;
// afterwards every worker is alive, nothing was written, and real requests work.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>

#include "core/codes.h"
#include "core/json.h"
#include "harness.h"
#include "registration.h"

namespace chatalot::testing {
namespace {

Stack* g_stack = nullptr;
std::string g_code;         // a usable invite, never spent by a refused request
std::string g_admin_token;  // the owner's access token
Registrant g_owner;         // the owner, who signs in again at the end

// A well-formed id that names nothing (no session, no user).
const std::string kUnknownId = "0b7e2a4c-1f3d-4e5a-9c6b-7d8e9f0a1b2c";

const std::set<std::string> kClientErrors = {"validation_error", "unauthorized", "forbidden",
                                             "not_found",        "method_not_allowed",
                                             "conflict",         "payload_too_large",
                                             "unsupported_media_type", "rate_limited"};
const char* const kHandlers[] = {"auth-config", "register", "invite-redeem", "admin-invites",
                                 "login",       "refresh",  "recover",       "logout",
                                 "account",     "keys",     "admin-users"};

class StackEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    g_stack = new Stack("hostile-http", 1, fast_unlimited_env());
    const CommandResult r = g_stack->up({{"REGISTRATION_MODE", "invite_only"}});
    ASSERT_EQ(r.exit_code, 0) << r.output;
    const CommandResult created = run_command("(CHATALOT_STACK_DIR='" + g_stack->dir() + "' '" +
                                              source_dir() +
                                              "/scripts/stack' ctl invite create --max-uses 100 2>/dev/null)");
    ASSERT_EQ(created.exit_code, 0) << created.output;
    g_code = created.output.substr(0, created.output.find('\n'));
    g_owner = registrant("owner", g_code);
    const auto res = g_stack->client()->Post("/api/auth/register", registration_body(g_owner),
                                             "application/json");
    ASSERT_TRUE(res && res->status == 200) << (res ? res->body : "no answer");
    Result<rapidjson::Document> doc = parse_json_object(res->body);
    ASSERT_TRUE(doc.is_ok());
    g_admin_token = (*doc)["access_token"].GetString();
  }
  void TearDown() override { delete g_stack; }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new StackEnvironment);

struct Attack {
  std::string name;
  std::string method;
  std::string path;
  std::string content_type;  // "" sends none
  std::string body;
  httplib::Headers headers = {};
};

// What every refused request must look like to a client.
::testing::AssertionResult is_contract_4xx(const httplib::Result& res) {
  if (!res) return ::testing::AssertionFailure() << "no answer";
  if (res->status < 400 || res->status >= 500) {
    return ::testing::AssertionFailure() << "status " << res->status << ": " << res->body;
  }
  if (res->get_header_value("Content-Type").rfind("application/json", 0) != 0) {
    return ::testing::AssertionFailure() << "Content-Type " << res->get_header_value("Content-Type");
  }
  Result<rapidjson::Document> doc = parse_json_object(res->body);
  if (!doc.is_ok() || !doc->HasMember("error") || !(*doc)["error"].IsObject() ||
      !(*doc)["error"].HasMember("code") || !(*doc)["error"]["code"].IsString() ||
      !(*doc)["error"].HasMember("message") || !(*doc)["error"]["message"].IsString()) {
    return ::testing::AssertionFailure() << "not the contract's error shape: " << res->body;
  }
  const std::string code = (*doc)["error"]["code"].GetString();
  if (kClientErrors.count(code) == 0) return ::testing::AssertionFailure() << "code " << code;
  return ::testing::AssertionSuccess();
}

// Whether a request goes with the owner's bearer (unless it brings its own Authorization), so
// that the handler reads its ids, query and body: refused, they change nothing. Not on the two
// account actions that would act on any body: there every request is refused before the
// bearer, or at it (401).
bool with_bearer(const std::string& path) {
  if (path == "/api/account/logout-all" || path == "/api/account/regenerate-recovery-code") {
    return false;
  }
  return path.starts_with("/api/admin/") || path.starts_with("/api/account/") ||
         path.starts_with("/api/keys/");
}

// Each attack from its own loopback address, so that nginx's flood guard (per address) does not
// answer for the handlers: what is tested here is what the handlers and nginx's own checks say.
httplib::Result send(const Attack& a, int source) {
  auto c = g_stack->client();
  c->set_interface("127.0.9." + std::to_string(source % 250 + 1));
  httplib::Headers headers = a.headers;
  if (with_bearer(a.path) && headers.find("Authorization") == headers.end()) {
    headers.emplace("Authorization", "Bearer " + g_admin_token);
  }
  if ((a.method == "GET" || a.method == "DELETE") && !a.body.empty()) {
    httplib::Request request;  // a body on a bodiless method: no shortcut of the client sends one
    request.method = a.method;
    request.path = a.path;
    request.headers = headers;
    if (!a.content_type.empty()) request.set_header("Content-Type", a.content_type);
    request.body = a.body;
    return c->send(request);
  }
  if (a.method == "GET") return c->Get(a.path, headers);
  if (a.method == "DELETE") return c->Delete(a.path, headers);
  if (a.method == "PUT") return c->Put(a.path, headers, a.body, a.content_type);
  if (a.method == "PATCH") return c->Patch(a.path, headers, a.body, a.content_type);
  if (a.content_type.empty()) return c->Post(a.path, headers, a.body, "");
  return c->Post(a.path, headers, a.body, a.content_type);
}

// A valid registration body with one field replaced by raw JSON (or removed when raw is "").
std::string registration_with(const std::string& field, const std::string& raw) {
  Result<rapidjson::Document> doc =
      parse_json_object(registration_body(registrant("hostile", g_code)));
  EXPECT_TRUE(doc.is_ok());
  rapidjson::Document& d = *doc;
  d.RemoveMember(field.c_str());
  std::string out = "{";
  for (auto& m : d.GetObject()) {
    rapidjson::StringBuffer buffer;
    rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
    m.value.Accept(writer);
    out += "\"" + std::string(m.name.GetString()) + "\":" + buffer.GetString() + ",";
  }
  if (!raw.empty()) out += "\"" + field + "\":" + raw + ",";
  out.back() = '}';
  return out;
}

// The body attacks on a location that takes a JSON body with `method` (POST or PUT), and every
// other method.
std::vector<Attack> body_attacks(const std::string& path, const std::string& method = "POST") {
  const std::string json = "application/json";
  std::vector<Attack> a = {
      {"empty body", "POST", path, json, ""},
      {"whitespace body", "POST", path, json, " \n\t "},
      {"truncated object", "POST", path, json, R"({"invite_code":"AB)"},
      {"trailing garbage", "POST", path, json, "{} x"},
      {"two objects", "POST", path, json, "{}{}"},
      {"top-level array", "POST", path, json, "[1,2]"},
      {"top-level string", "POST", path, json, "\"x\""},
      {"top-level number", "POST", path, json, "42"},
      {"top-level null", "POST", path, json, "null"},
      {"nesting 30000 deep", "POST", path, json,
       "{\"note\":" + std::string(15000, '[') + std::string(15000, ']') + ",\"invite_code\":" +
           std::string(15000, '[') + std::string(15000, ']') + "}"},
      {"nesting 100000 deep (over the size limit)", "POST", path, json, std::string(100000, '[')},
      {"huge number", "POST", path, json, R"({"max_uses":1e999999,"invite_code":1e999999})"},
      {"huge negative number", "POST", path, json, R"({"max_uses":-1e999999})"},
      {"huge integer", "POST", path, json, "{\"max_uses\":" + std::string(5000, '9') + "}"},
      {"huge string", "POST", path, json,
       "{\"invite_code\":\"" + std::string(30000, 'A') + "\",\"note\":\"" + std::string(30000, 'n') +
           "\"}"},
      {"duplicate keys", "POST", path, json, R"({"invite_code":"A","invite_code":5,"note":1,"note":"x"})"},
      {"invalid UTF-8", "POST", path, json, "{\"invite_code\":\"\xff\xfe\"}"},
      {"overlong UTF-8", "POST", path, json, "{\"invite_code\":\"\xc0\xaf\"}"},
      {"surrogate as UTF-8 bytes", "POST", path, json, "{\"note\":\"\xed\xa0\x80\"}"},
      {"lone low surrogate escape", "POST", path, json, R"({"invite_code":"\udc00","note":"\udc00"})"},
      {"lone high surrogate escape", "POST", path, json, R"({"invite_code":"\ud800","note":"\ud800"})"},
      {"NUL escape", "POST", path, json, R"({"invite_code":"A\u0000B","note":"a\u0000"})"},
      {"raw NUL byte", "POST", path, json, std::string("{\"note\":\"a\0b\"}", 14)},
      {"control characters", "POST", path, json, "{\"note\":\"a\x01\x1b\"}"},
      {"text/plain", "POST", path, "text/plain", "{}"},
      {"form", "POST", path, "application/x-www-form-urlencoded", "a=1"},
      {"multipart", "POST", path, "multipart/form-data; boundary=x", "--x--"},
      {"jsonp", "POST", path, "application/jsonp", "{}"},
      {"no content type", "POST", path, "", "{}"},
      {"content type with junk", "POST", path, "application/json;;;\x01", R"({"max_uses":0})"},
      {"oversized body", "POST", path, json, "{\"a\":\"" + std::string(70000, 'x') + "\"}"},
      {"declared oversized", "POST", path, json, "{}", {{"Content-Length", "999999999"}}},
      {"chunked garbage", "POST", path, json, "not json", {{"Transfer-Encoding", "chunked"}}},
  };
  for (Attack& row : a) row.method = method;
  for (const char* other : {"GET", "POST", "PUT", "PATCH", "DELETE"}) {
    if (other == method) continue;
    const bool bodiless = std::string_view(other) == "GET" || std::string_view(other) == "DELETE";
    a.push_back({other, other, path, bodiless ? "" : json, bodiless ? "" : "{}"});
  }
  return a;
}

std::vector<Attack> path_attacks() {
  return {
      {"trailing slash", "POST", "/api/auth/register/", "application/json", "{}"},
      {"dot segment", "POST", "/api/auth/register/../config", "application/json", "{}"},
      {"double slash", "POST", "//api//auth//register", "application/json", "{}"},
      {"upper case", "POST", "/api/auth/REGISTER", "application/json", "{}"},
      {"encoded slash", "POST", "/api/auth%2Fregister", "application/json", "{}"},
      {"unknown path", "GET", "/api/auth/login-nope", "", ""},
      {"root", "GET", "/", "", ""},
      {"dot dot past root", "GET", "/../../etc/passwd", "", ""},
      {"admin item not a uuid", "DELETE", "/api/admin/invites/../../x", "", ""},
      {"admin item sql", "DELETE", "/api/admin/invites/1'%20OR%201=1", "", ""},
      {"admin item nested", "DELETE", "/api/admin/invites/a/b", "", ""},
      {"admin collection wrong method", "PUT", "/api/admin/invites", "application/json", "{}"},
      {"config POST", "POST", "/api/auth/config", "application/json", "{}"},
      {"config DELETE", "DELETE", "/api/auth/config", "", ""},
      {"login trailing slash", "POST", "/api/auth/login/", "application/json", "{}"},
      {"login upper case", "POST", "/api/auth/LOGIN", "application/json", "{}"},
      {"account unknown path", "GET", "/api/account/nope", "", ""},
      {"me trailing slash", "GET", "/api/account/me/", "", ""},
      {"me POST", "POST", "/api/account/me", "application/json", "{}"},
      {"me DELETE", "DELETE", "/api/account/me", "", ""},
      {"sessions POST", "POST", "/api/account/sessions", "application/json", "{}"},
      {"sessions DELETE", "DELETE", "/api/account/sessions", "", ""},
      {"session not a uuid", "DELETE", "/api/account/sessions/../../x", "", ""},
      {"session sql", "DELETE", "/api/account/sessions/1'%20OR%201=1", "", ""},
      {"session nested", "DELETE", "/api/account/sessions/a/b", "", ""},
      {"session without id", "DELETE", "/api/account/sessions/", "", ""},
      {"session unknown", "DELETE", "/api/account/sessions/" + kUnknownId, "", ""},
      {"session GET", "GET", "/api/account/sessions/" + kUnknownId, "", ""},
      {"keys trailing slash", "POST", "/api/keys/register/", "application/json", "{}"},
      {"users POST", "POST", "/api/admin/users", "application/json", "{}"},
      {"users DELETE", "DELETE", "/api/admin/users", "", ""},
      {"user not a uuid", "PUT", "/api/admin/users/../../x/admin", "application/json",
       R"({"is_admin":true})"},
      {"user sql", "PUT", "/api/admin/users/1'%20OR%201=1/admin", "application/json",
       R"({"is_admin":true})"},
      {"user sql suspend", "POST", "/api/admin/users/1'%20OR%201=1/suspend", "application/json",
       R"({"reason":null})"},
      {"user nested", "POST", "/api/admin/users/a/b/suspend", "application/json", "{}"},
      {"user without id", "POST", "/api/admin/users//suspend", "application/json", "{}"},
      {"user unknown", "POST", "/api/admin/users/" + kUnknownId + "/suspend", "application/json",
       R"({"reason":"x"})"},
      {"user unknown unsuspend", "POST", "/api/admin/users/" + kUnknownId + "/unsuspend",
       "application/json", "{}"},
      {"user unknown admin", "PUT", "/api/admin/users/" + kUnknownId + "/admin", "application/json",
       R"({"is_admin":false})"},
      {"user unknown action", "POST", "/api/admin/users/" + kUnknownId + "/delete",
       "application/json", "{}"},
      {"user without action", "GET", "/api/admin/users/" + kUnknownId, "", ""},
      {"user action GET", "GET", "/api/admin/users/" + kUnknownId + "/admin", "", ""},
      {"user admin POST", "POST", "/api/admin/users/" + kUnknownId + "/admin", "application/json",
       R"({"is_admin":true})"},
      {"user suspend PUT", "PUT", "/api/admin/users/" + kUnknownId + "/suspend", "application/json",
       "{}"},
  };
}

// The bodiless locations and the admin's user list: query parameters out of range (SPEC: limit
// 1-100, offset >= 0, anything else 400), a query over nginx's buffers, bodies on a GET or a
// DELETE (over the 1k these locations take), and bearers that are not the owner's.
std::vector<Attack> query_and_bearer_attacks() {
  const std::string json = "application/json";
  const std::string users = "/api/admin/users";
  std::vector<Attack> a = {
      {"users query over 8k", "GET", users + "?search=" + std::string(9000, 'a'), "", ""},
      {"users limit 0", "GET", users + "?limit=0", "", ""},
      {"users limit 101", "GET", users + "?limit=101", "", ""},
      {"users limit negative", "GET", users + "?limit=-1", "", ""},
      {"users limit not a number", "GET", users + "?limit=abc", "", ""},
      {"users limit a fraction", "GET", users + "?limit=1.5", "", ""},
      {"users limit huge", "GET", users + "?limit=" + std::string(30, '9'), "", ""},
      {"users limit sql", "GET", users + "?limit=1;DROP%20TABLE%20users", "", ""},
      {"users offset negative", "GET", users + "?offset=-1", "", ""},
      {"users offset not a number", "GET", users + "?offset=x", "", ""},
  };
  const std::string lists[] = {"/api/account/me", "/api/account/sessions", users};
  for (const std::string& path : lists) {
    a.push_back({"GET with a 2k body", "GET", path, json, std::string(2000, ' ')});
    a.push_back({"GET with a body over 64 KiB", "GET", path, json, std::string(70000, ' ')});
  }
  a.push_back({"DELETE with a 2k body", "DELETE", "/api/account/sessions/" + kUnknownId, json,
               std::string(2000, ' ')});
  // A bearer that is no token, or another scheme: 401 wherever one is needed.
  const httplib::Headers not_a_jwt = {{"Authorization", "Bearer a.b.c"}};
  for (const std::string& path : lists) {
    a.push_back({"bearer not a JWT", "GET", path, "", "", not_a_jwt});
    a.push_back({"Basic", "GET", path, "", "", {{"Authorization", "Basic YTpi"}}});
    a.push_back({"GET with a body and a bad bearer", "GET", path, json, "{}", not_a_jwt});
  }
  const std::string actions[] = {"/api/keys/register", "/api/account/logout-all",
                                 "/api/account/regenerate-recovery-code",
                                 "/api/admin/users/" + kUnknownId + "/suspend"};
  for (const std::string& path : actions) {
    a.push_back({"bearer not a JWT", "POST", path, json, "{}", not_a_jwt});
  }
  a.push_back({"bearer not a JWT", "PUT", "/api/account/password", json, "{}", not_a_jwt});
  for (Attack& row : a) row.name = row.path.substr(0, 60) + ": " + row.name;
  return a;
}

// Every field of the registration with every wrong JSON type (and absent, and NUL, and a lone
// surrogate in string fields).
std::vector<Attack> registration_field_attacks() {
  const std::vector<std::pair<std::string, bool>> fields = {
      {"username", true},      {"email", true},         {"password", true},
      {"display_name", true},  {"invite_code", true},   {"identity_key", false},
      {"signed_prekey", false}, {"one_time_prekeys", false}};
  const std::vector<std::string> wrong = {"null", "true", "1", "1.5", "-1", "\"s\"", "[]", "{}",
                                          "[\"x\"]", "[256]"};
  std::vector<Attack> out;
  for (const auto& [field, is_string] : fields) {
    for (const std::string& raw : wrong) {
      // null is "absent" for the optional fields, and no one-time prekeys is allowed.
      if ((field == "display_name" || field == "one_time_prekeys") && raw == "null") continue;
      if (field == "one_time_prekeys" && raw == "[]") continue;
      if (is_string && raw == "\"s\"" && field != "username" && field != "email" &&
          field != "password" && field != "invite_code") {
        continue;  // a display name "s" is valid
      }
      out.push_back({field + " = " + raw, "POST", "/api/auth/register", "application/json",
                     registration_with(field, raw)});
    }
    if (is_string) {
      out.push_back({field + " with NUL", "POST", "/api/auth/register", "application/json",
                     registration_with(field, R"("ab\u0000cd")")});
      out.push_back({field + " with a lone surrogate", "POST", "/api/auth/register",
                     "application/json", registration_with(field, R"("ab\udc00cd")")});
    }
    if (field != "display_name" && field != "one_time_prekeys") {
      out.push_back({field + " absent", "POST", "/api/auth/register", "application/json",
                     registration_with(field, "")});
    }
  }
  return out;
}

std::string footprint() {
  std::string s;
  for (const char* t : {"users", "identity_keys", "one_time_prekeys", "refresh_tokens",
                        "registration_invites", "audit_log"}) {
    s += std::string(t) + "=" + g_stack->query(std::string("SELECT count(*) FROM ") + t) + " ";
  }
  // What the session, account and admin endpoints would change in place.
  for (const auto& [name, sql] : std::initializer_list<std::pair<const char*, const char*>>{
           {"live_sessions", "SELECT count(*) FROM sessions WHERE revoked_at IS NULL"},
           {"admins", "SELECT count(*) FROM users WHERE is_admin"},
           {"suspended", "SELECT count(*) FROM users WHERE suspended_at IS NOT NULL"},
           {"secrets",
            "SELECT md5(string_agg(password_hash || recovery_code_hash, ',' ORDER BY id)) "
            "FROM users"},
           {"keys",
            "SELECT md5(string_agg(public_key::text, ',' ORDER BY user_id)) FROM identity_keys"}}) {
    s += std::string(name) + "=" + g_stack->query(sql) + " ";
  }
  return s + "used=" + g_stack->query("SELECT sum(used_count) FROM registration_invites");
}

TEST(HostileHttp, EveryAttackIsAContract4xxAndChangesNothing) {
  std::vector<Attack> attacks = path_attacks();
  const std::pair<std::string, std::string> json_locations[] = {
      {"/api/auth/register", "POST"},
      {"/api/auth/invites/redeem", "POST"},
      {"/api/admin/invites", "POST"},
      {"/api/auth/login", "POST"},
      {"/api/auth/refresh", "POST"},
      {"/api/auth/recover", "POST"},
      {"/api/auth/logout", "POST"},
      {"/api/account/logout-all", "POST"},
      {"/api/account/password", "PUT"},
      {"/api/account/regenerate-recovery-code", "POST"},
      {"/api/keys/register", "POST"},
      {"/api/admin/users/" + kUnknownId + "/admin", "PUT"},
      {"/api/admin/users/" + kUnknownId + "/suspend", "POST"},
      {"/api/admin/users/" + kUnknownId + "/unsuspend", "POST"},
  };
  for (const auto& [path, method] : json_locations) {
    for (Attack& a : body_attacks(path, method)) {
      a.name = path + ": " + a.name;
      attacks.push_back(std::move(a));
    }
  }
  for (Attack& a : query_and_bearer_attacks()) attacks.push_back(std::move(a));
  for (Attack& a : registration_field_attacks()) attacks.push_back(std::move(a));
  ASSERT_GE(attacks.size(), 600U);

  std::map<std::string, pid_t> pids;
  for (const char* h : kHandlers) pids[h] = g_stack->handler_pid(h);
  const std::string before = footprint();
  int source = 0;
  for (const Attack& a : attacks) {
    // GET on the admin collection is its list: a 200, not an attack.
    if (a.path == "/api/admin/invites" && a.method == "GET") continue;
    EXPECT_TRUE(is_contract_4xx(send(a, source++))) << a.name;
  }
  EXPECT_EQ(footprint(), before);
  for (const auto& [handler, pid] : pids) EXPECT_TRUE(process_running(pid)) << handler;
  // And the service still does its job.
  const auto ok = g_stack->client()->Post(
      "/api/auth/register", registration_body(registrant("after", g_code)), "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  const auto redeem = g_stack->client()->Post(
      "/api/auth/invites/redeem", R"({"invite_code":")" + g_code + R"("})", "application/json");
  ASSERT_TRUE(redeem);
  EXPECT_EQ(redeem->status, 200);
  // The owner signs in, and reads its account with the new token.
  const auto login = g_stack->client()->Post(
      "/api/auth/login",
      R"({"username":")" + g_owner.username + R"(","password":")" + g_owner.password + R"("})",
      "application/json");
  ASSERT_TRUE(login);
  ASSERT_EQ(login->status, 200) << login->body;
  Result<rapidjson::Document> signed_in = parse_json_object(login->body);
  ASSERT_TRUE(signed_in.is_ok() && signed_in->HasMember("access_token"));
  const auto me = g_stack->client()->Get(
      "/api/account/me",
      {{"Authorization", std::string("Bearer ") + (*signed_in)["access_token"].GetString()}});
  ASSERT_TRUE(me);
  EXPECT_EQ(me->status, 200) << me->body;
}

// What HTTP clients would normalise away, sent raw: a Content-Length that lies, and a peer that
// goes away mid-body. nginx answers or closes; nothing reaches a handler half-read, and nothing
// is written.
std::string raw_exchange(const std::string& request, bool close_early) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(g_stack->port()));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  (void)!::write(fd, request.data(), request.size());
  if (close_early) ::shutdown(fd, SHUT_WR);
  timeval tv{15, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return out;
}

TEST(HostileHttp, LyingLengthsAndTruncatedBodiesAreRefusedOrDropped) {
  const std::string before = footprint();
  const std::string body = registration_body(registrant("liar", g_code));
  const std::string head = "POST /api/auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: "
                           "application/json\r\nConnection: close\r\n";
  // Declares more than it sends, then stops sending.
  const std::string more = raw_exchange(
      head + "Content-Length: " + std::to_string(body.size() + 100) + "\r\n\r\n" + body, true);
  EXPECT_EQ(more.find(" 200 "), std::string::npos) << more;
  EXPECT_EQ(more.find(" 500 "), std::string::npos) << more;
  // Declares less than it sends: the rest is another (garbage) request.
  const std::string less = raw_exchange(head + "Content-Length: 10\r\n\r\n" + body, false);
  EXPECT_NE(less.find("HTTP/1.1 400"), std::string::npos) << less.substr(0, 200);
  EXPECT_EQ(less.find(" 500 "), std::string::npos);
  // Both a length and chunked: refused by nginx.
  const std::string both = raw_exchange(head + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n"
                                               "5\r\nhello\r\n0\r\n\r\n",
                                        false);
  EXPECT_NE(both.find("HTTP/1.1 400"), std::string::npos) << both.substr(0, 200);
  EXPECT_EQ(footprint(), before);
}

// Every secret the service hands out or receives, and none of them in any log of the run: the
// handlers', nginx's (access and error), Redis's and PostgreSQL's.
TEST(Logs, NoSecretInAnyLogOfTheRun) {
  const Registrant r = registrant("logged", g_code);
  const auto reg = g_stack->client()->Post("/api/auth/register", registration_body(r),
                                           "application/json");
  ASSERT_TRUE(reg && reg->status == 200) << (reg ? reg->body : "");
  Result<rapidjson::Document> doc = parse_json_object(reg->body);
  ASSERT_TRUE(doc.is_ok());
  auto c = g_stack->client();
  const auto created = c->Post("/api/admin/invites", {{"Authorization", "Bearer " + g_admin_token}},
                               R"({"note":"for the log test"})", "application/json");
  ASSERT_TRUE(created && created->status == 200);
  Result<rapidjson::Document> invite = parse_json_object(created->body);
  ASSERT_TRUE(invite.is_ok());
  const std::string new_code = (*invite)["code"].GetString();
  ASSERT_EQ(c->Post("/api/auth/invites/redeem", R"({"invite_code":")" + new_code + R"("})",
                    "application/json")
                .value()
                .status,
            200);
  const std::vector<std::string> secrets = {
      r.password, g_code, new_code, normalize_invite_code(new_code), g_admin_token,
      (*doc)["access_token"].GetString(), (*doc)["refresh_token"].GetString(),
      (*doc)["recovery_code"].GetString()};
  const CommandResult logs =
      run_command("find '" + g_stack->dir() + "' -name '*.log' -type f -exec cat {} +");
  ASSERT_EQ(logs.exit_code, 0);
  // The logs are there: the handlers' access lines, and nginx's.
  ASSERT_NE(logs.output.find("path=/api/auth/register"), std::string::npos) << logs.output.size();
  ASSERT_NE(logs.output.find("\"POST /api/admin/invites HTTP/1.1\" 200"), std::string::npos);
  for (const std::string& secret : secrets) {
    EXPECT_EQ(logs.output.find(secret), std::string::npos) << "logged: " << secret;
  }
}

}  // namespace
}  // namespace chatalot::testing
