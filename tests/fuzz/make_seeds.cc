// Writes the generated seeds of tests/fuzz/corpus/<harness>/gen-* (deterministic: the same
// files every run). Usage: make_seeds CORPUS_DIR. FastCGI streams are encoded as nginx sends
// them (tests/fcgi_client.h), registration bodies are cut from the real client's request
// (tests/fixtures/), tokens are signed with the harnesses' fixed key at their fixed time.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "../fcgi_client.h"
#include "crypto/jwt.h"
#include "fuzz.h"
#include "session_world.h"

namespace chatalot {
namespace {

using testing::begin_request;
using testing::encode_params;
using testing::record;
using testing::whole_request;
using Params = std::vector<std::pair<std::string, std::string>>;

std::string g_dir;
int g_written = 0;

void write_seed(const std::string& harness, const std::string& name, std::string_view content) {
  const std::string dir = g_dir + "/" + harness;
  ::mkdir(dir.c_str(), 0755);
  const std::string path = dir + "/gen-" + name;
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(content.data(), static_cast<std::streamsize>(content.size()));
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", path.c_str());
    std::exit(1);
  }
  ++g_written;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string compact(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return {buffer.GetString(), buffer.GetSize()};
}

// --- FastCGI -----------------------------------------------------------------------------------

Params get_params(std::string method = "GET", std::string uri = "/api/auth/config") {
  return {{"REQUEST_METHOD", std::move(method)}, {"DOCUMENT_URI", std::move(uri)},
          {"QUERY_STRING", ""},                  {"REQUEST_ID", "0123456789abcdef0123456789abcdef"},
          {"REMOTE_ADDR", "203.0.113.7"},        {"SERVER_PROTOCOL", "HTTP/1.1"}};
}

Params post_params(std::size_t length, std::string type = "application/json",
                   std::string uri = "/api/auth/register") {
  Params p = get_params("POST", std::move(uri));
  p.emplace_back("CONTENT_TYPE", std::move(type));
  p.emplace_back("CONTENT_LENGTH", std::to_string(length));
  return p;
}

// A record with padding, as a peer may send it.
std::string padded_record(std::uint8_t type, std::string_view content, std::uint8_t padding) {
  std::string r = record(type, content);
  r[6] = static_cast<char>(padding);
  r.append(padding, '\0');
  return r;
}

void fcgi_seeds() {
  const std::string body = R"({"invite_code":"7K2M-Q9XA-R4TB-8W3N-Z6YD-1H5C-J0VE"})";
  write_seed("fcgi_stream", "get-config", whole_request(get_params()));
  write_seed("fcgi_stream", "head-config", whole_request(get_params("HEAD")));
  write_seed("fcgi_stream", "post-redeem",
             whole_request(post_params(body.size(), "application/json; charset=utf-8",
                                       "/api/auth/invites/redeem"),
                           body));
  // Kept alive: three requests on one connection, as nginx's fastcgi_keep_conn sends them.
  Params admin = get_params("GET", "/api/admin/invites");
  admin.emplace_back("HTTP_AUTHORIZATION", "Bearer eyJhbGciOiJFZERTQSJ9.e30.c2ln");
  write_seed("fcgi_stream", "keep-alive-three",
             whole_request(get_params(), {}, true) +
                 whole_request(post_params(body.size(), "application/json", "/api/admin/invites"),
                               body, true) +
                 whole_request(admin, {}, false));
  // The body in three STDIN records with padding, the parameters in two PARAMS records with a
  // 4-byte length.
  const std::string params = encode_params(post_params(body.size()));
  std::string split = begin_request(true);
  split += padded_record(FCGI_PARAMS, params.substr(0, 20), 3);
  split += record(FCGI_PARAMS, params.substr(20) + encode_params({{"HTTP_X_LONG", std::string(300, 'x')}}));
  split += record(FCGI_PARAMS, "");
  split += padded_record(FCGI_STDIN, body.substr(0, 10), 7);
  split += record(FCGI_STDIN, body.substr(10, 20));
  split += padded_record(FCGI_STDIN, body.substr(30), 1);
  split += record(FCGI_STDIN, "");
  write_seed("fcgi_stream", "split-padded", split);
  // Refusals: another role, a media type, a declared size, a request id that changes, the stream
  // cut short, a management record.
  std::string role = record(FCGI_BEGIN_REQUEST, std::string("\0\2\0\0\0\0\0\0", 8));
  write_seed("fcgi_stream", "authorizer-role", role + record(FCGI_PARAMS, "") );
  write_seed("fcgi_stream", "post-text-plain",
             whole_request(post_params(body.size(), "text/plain"), body));
  write_seed("fcgi_stream", "post-declared-too-large", whole_request(post_params(70000), body));
  write_seed("fcgi_stream", "post-bad-length",
             whole_request({{"REQUEST_METHOD", "POST"}, {"CONTENT_LENGTH", "12x"},
                            {"CONTENT_TYPE", "application/json"}},
                           body));
  std::string other_id = begin_request() + record(FCGI_PARAMS, params, 2);
  write_seed("fcgi_stream", "other-request-id", other_id);
  const std::string whole = whole_request(post_params(body.size()), body);
  write_seed("fcgi_stream", "cut-in-body", whole.substr(0, whole.size() - 20));
  write_seed("fcgi_stream", "get-values", record(FCGI_GET_VALUES, "", 0));
  // Management records between requests (request id 0): answered in passing.
  write_seed("fcgi_stream", "management-then-get",
             record(FCGI_GET_VALUES,
                    encode_params({{"FCGI_MAX_CONNS", ""}, {"FCGI_MAX_REQS", ""},
                                   {"FCGI_MPXS_CONNS", ""}, {"OTHER", ""}}),
                    0) +
                 record(99, "", 0) + whole_request(get_params(), {}, true));
  // A refusal on a kept connection: answered, the rest drained, no further request served.
  write_seed("fcgi_stream", "refused-then-more",
             whole_request(post_params(body.size(), "text/plain"), body, true) +
                 whole_request(get_params(), {}, true));
  // Past the limits: a body beyond 64 KiB in STDIN records (no Content-Length), parameters
  // beyond 64 KiB in PARAMS records.
  Params undeclared = get_params("POST", "/api/auth/register");
  undeclared.emplace_back("CONTENT_TYPE", "application/json");
  write_seed("fcgi_stream", "body-over-limit", whole_request(undeclared, std::string(65537, ' ')));
  std::string big_params = begin_request();
  const std::string chunk = encode_params({{"HTTP_X_FILL", std::string(33000, 'p')}});
  big_params += record(FCGI_PARAMS, chunk) + record(FCGI_PARAMS, chunk) + record(FCGI_PARAMS, "");
  write_seed("fcgi_stream", "params-over-limit", big_params);

  // The parameters alone.
  write_seed("fcgi_params", "get", encode_params(get_params()));
  write_seed("fcgi_params", "post", encode_params(post_params(57)));
  write_seed("fcgi_params", "admin", encode_params(admin));
  write_seed("fcgi_params", "long-lengths",
             encode_params({{"HTTP_X_LONG", std::string(200, 'v')}, {"E", ""}, {"", "v"}}));
  // A short length written in the 4-byte form, which the protocol allows.
  write_seed("fcgi_params", "four-byte-short",
             std::string("\x80\x00\x00\x0e\x04REQUEST_METHODPOST", 23));
  write_seed("fcgi_params", "duplicates-bad-length",
             encode_params({{"CONTENT_LENGTH", "10"}, {"CONTENT_LENGTH", "-1"},
                            {"REQUEST_METHOD", "POST"}, {"CONTENT_TYPE", "APPLICATION/JSON ; x"},
                            {"HTTP_AUTHORIZATION", "bearer  a.b.c "}}));
}

// --- Registration bodies -----------------------------------------------------------------------

void registration_seeds() {
  const std::string fixture =
      read_file(std::string(CHATALOT_FIXTURES_DIR) + "/chatalot-client-register-request.json");
  rapidjson::Document doc;
  doc.Parse(fixture.data(), fixture.size());
  if (fixture.empty() || doc.HasParseError() || !doc.IsObject()) {
    std::fprintf(stderr, "cannot read the client fixture\n");
    std::exit(1);
  }
  auto& a = doc.GetAllocator();
  write_seed("register_json", "client-fixture.json", fixture);
  write_seed("register_json", "client-compact.json", compact(doc));

  rapidjson::Document few;
  few.CopyFrom(doc, few.GetAllocator());
  auto& prekeys = few["one_time_prekeys"];
  while (prekeys.Size() > 2) prekeys.PopBack();
  write_seed("register_json", "client-two-prekeys.json", compact(few));

  rapidjson::Document none;
  none.CopyFrom(doc, none.GetAllocator());
  none.RemoveMember("one_time_prekeys");
  none["display_name"].SetNull();
  none["invite_code"].SetString("  7k2m q9xa-r4tb-8w3n-z6yd-1h5c-j0ve ", none.GetAllocator());
  write_seed("register_json", "client-no-prekeys.json", compact(none));

  rapidjson::Document unicode;
  unicode.CopyFrom(doc, unicode.GetAllocator());
  unicode["display_name"].SetString("\xe2\x80\x83 Zo\xc3\xab \xf0\x9f\x90\x9d \xe3\x80\x80",
                                    unicode.GetAllocator());
  unicode["password"].SetString("p\xc3\xa4ssw\xc3\xb6rd-W1th-Umlaut", unicode.GetAllocator());
  unicode["email"].SetString("first.last+tag@sub-domain.example.org", unicode.GetAllocator());
  write_seed("register_json", "client-unicode.json", compact(unicode));

  // The same body with a duplicate one-time prekey id, and one key byte out of range.
  rapidjson::Document dup;
  dup.CopyFrom(few, dup.GetAllocator());
  dup["one_time_prekeys"][1]["key_id"] = dup["one_time_prekeys"][0]["key_id"].GetUint();
  write_seed("register_json", "client-duplicate-prekey.json", compact(dup));
  rapidjson::Document byte;
  byte.CopyFrom(few, byte.GetAllocator());
  byte["identity_key"][0] = 256;
  write_seed("register_json", "client-byte-256.json", compact(byte));
  (void)a;

  // Small refusals, each one step of the contract's order.
  const std::pair<const char*, const char*> small[] = {
      {"not-object.json", "[1,2,3]"},
      {"lone-surrogate.json", R"({"username":"alice","password":"\udc00x"})"},
      {"nul-username.json", R"({"invite_code":"X","username":"al\u0000ice"})"},
      {"types.json", R"({"invite_code":7,"username":null,"email":[],"password":{}})"},
      {"deep.json", "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"},
      {"numbers.json", R"({"identity_key":[1.0,-1,1e2,255,256,18446744073709551616]})"},
  };
  for (const auto& [name, text] : small) write_seed("register_json", name, text);
}

// --- Invites -----------------------------------------------------------------------------------

void invite_seeds() {
  const std::pair<const char*, const char*> specs[] = {
      {"empty.json", "{}"},
      {"all.json", R"({"max_uses":5,"expires_in_hours":24,"note":"for the book club"})"},
      {"nulls.json", R"({"max_uses":null,"expires_in_hours":null,"note":null})"},
      {"edges.json", R"({"max_uses":2147483647,"expires_in_hours":8760,"note":""})"},
      {"out-of-range.json", R"({"max_uses":0,"expires_in_hours":8761})"},
      {"huge.json", R"({"max_uses":1e300,"expires_in_hours":-9223372036854775809})"},
      {"fraction.json", R"({"max_uses":1.0,"expires_in_hours":1.5})"},
      {"uint64.json", R"({"max_uses":18446744073709551615})"},
      {"note-bidi.json", "{\"note\":\"abc\xe2\x80\xae" "def\"}"},
      {"note-control.json", R"({"note":"line\u0085break\u0007"})"},
      {"note-unicode.json", "{\"note\":\"\xf0\x9f\x8e\x89 f\xc3\xbcr Z\xc3\xb6\"}"},
      {"note-types.json", R"({"note":["x"],"max_uses":"5"})"},
  };
  for (const auto& [name, text] : specs) write_seed("invite_json", name, text);

  const std::pair<const char*, const char*> redeem[] = {
      {"dashed", "203.0.113.7\n{\"invite_code\":\"7K2M-Q9XA-R4TB-8W3N-Z6YD-1H5C-J0VE\"}"},
      {"lower-aliases", "2001:db8:1:2:3:4:5:6\n{\"invite_code\":\" 7k2m q9xa\\tr4tb-8w3n-z6yd-ih5c-joVE\\n\"}"},
      {"mapped-v4", "::ffff:198.51.100.42\n{\"invite_code\":\"0OIL-1lio\"}"},
      {"invalid-chars", "192.0.2.1\n{\"invite_code\":\"7K2M-U9XA\"}"},
      {"not-string", "unix:\n{\"invite_code\":12345}"},
      {"blanks-only", "fe80::1%eth0\n{\"invite_code\":\" - \\t - \"}"},
      {"long", "10.0.0.1\n{\"invite_code\":\"" "0123456789ABCDEFGHJKMNPQRSTVWXYZ0123456789ABCDEFGHJKMNPQRSTVWXYZ"
               "0123456789ABCDEFGHJKMNPQRSTVWXYZ0123456789ABCDEFGHJKMNPQRSTVWXYZ"
               "0123456789ABCDEFGHJKMNPQRSTVWXYZ0123456789ABCDEFGHJKMNPQRSTVWXYZ"
               "0123456789ABCDEFGHJKMNPQRSTVWXYZ0123456789ABCDEFGHJKMNPQRSTVWXYZX\"}"},
  };
  for (const auto& [name, text] : redeem) write_seed("redeem_json", name, text);
}

// --- Sessions and the admin's user tools ------------------------------------------------------

// session_json gives each input to every parser at once: a seed is a body, a query string, a
// recovery code, a User-Agent or a session id, naming session_world.h's accounts and tokens.
void session_seeds() {
  namespace w = fuzz::session_world;
  // JSON text as written (escapes included), quoted.
  const auto str = [](std::string_view s) { return "\"" + std::string(s) + "\""; };
  const auto login = [&](std::string_view username, std::string_view password) {
    return "{\"username\":" + str(username) + ",\"password\":" + str(password) + "}";
  };
  const auto token = [&](std::string_view t) { return "{\"refresh_token\":" + str(t) + "}"; };
  const auto recover = [&](std::string_view username, std::string_view code,
                           std::string_view password) {
    return "{\"username\":" + str(username) + ",\"recovery_code\":" + str(code) +
           ",\"new_password\":" + str(password) + "}";
  };
  const auto change = [&](std::string_view current, std::string_view next) {
    return "{\"current_password\":" + str(current) + ",\"new_password\":" + str(next) + "}";
  };
  const std::pair<std::string, std::string> bodies[] = {
      {"login.json", login(w::kAlice, w::kPassword)},
      {"login-case-totp.json",
       R"({"username":"ALICE","password":")" + std::string(w::kPassword) +
           R"(","totp_code":"123456"})"},
      {"login-wrong-password.json", login(w::kAlice, "Correct-horse-8")},
      {"login-unknown.json", login("nobody", w::kPassword)},
      {"login-suspended.json", login(w::kSuspended, w::kPassword)},
      {"login-rehash.json", login(w::kOldHash, w::kPassword)},
      {"login-not-username.json", login("a\\u0000lice", w::kPassword)},
      {"login-types.json", R"({"username":["alice"],"password":null})"},
      {"refresh-live.json", token(w::kLiveToken)},
      {"refresh-late.json", token(w::kLateToken)},
      {"refresh-reused.json", token(w::kReusedToken)},
      {"refresh-suspended.json", token(w::kSuspendedToken)},
      {"refresh-upper-case.json",
       token("5D41402ABC4B2A76B9719D911017C5925D41402ABC4B2A76B9719D911017C592")},
      {"refresh-not-string.json", R"({"refresh_token":1234})"},
      {"refresh-lone-surrogate.json", token("\\udc00")},
      {"recover.json", recover(w::kAlice, " wxyz wxyz-2345 2345\\n", w::kNewPassword)},
      {"recover-wrong-code.json", recover(w::kAlice, "ABCD-EFGH-JKLM-NPQR", w::kNewPassword)},
      {"recover-suspended.json", recover(w::kSuspended, w::kRecoveryCode, w::kNewPassword)},
      {"recover-weak-password.json", recover(w::kAlice, w::kRecoveryCode, "short")},
      {"password-change.json", change(w::kPassword, w::kNewPassword)},
      {"password-change-wrong.json", change("Wrong-horse-9", w::kNewPassword)},
      {"password-change-nul.json", change(w::kPassword, "Battery-\\u0000staple-7")},
      {"reason.json", R"({"reason":"spam, reported three times"})"},
      {"reason-null.json", R"({"reason":null})"},
      {"reason-unicode.json", "{\"reason\":\"f\xc3\xbcr immer \xf0\x9f\x9a\xab\"}"},
      {"reason-bidi.json", R"({"reason":"abc\u202edef"})"},
      {"reason-type.json", R"({"reason":false})"},
      {"query", "search=alice&limit=10&offset=0"},
      {"query-encoded", "search=+caf%C3%A9+%25_x+&limit=100&offset=1000000000&extra=%ZZ"},
      {"query-repeated", "limit=5&limit=7&offset&search="},
      {"query-out-of-range", "limit=0&offset=-1"},
      {"query-nul", "search=a%00b"},
      {"query-broken-escape", "search=%E2%80"},
      {"recovery-code", "wxyz-wxyz-2345-2345"},
      {"recovery-code-blanks", " WXYZ wxyz\t2345\r\n2345 "},
      {"recovery-code-ambiguous", "WXYZ-WXYZ-2345-234O"},
      {"ua-firefox-linux",
       "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"},
      {"ua-chrome-android",
       "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
       "Chrome/126.0.0.0 Mobile Safari/537.36"},
      {"ua-edge-ios",
       "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
       "Gecko) EdgiOS/126.0.2592.56 Version/17.0 Mobile/15E148 Safari/604.1"},
      {"ua-electron",
       "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chatalot/1.0 Chrome/126.0 Electron/31.0.1"},
      {"ua-curl", "curl/8.1.2"},
      {"ua-control", "\x01\x7f\xe2\x80\xae" "bot/1.0\t(x)"},
      {"session-id", std::string(w::kAliceSessionId)},
  };
  for (const auto& [name, text] : bodies) write_seed("session_json", name, text);

  // POST /api/keys/register: the client fixture's keys, with two one-time prekeys.
  const std::string fixture =
      read_file(std::string(CHATALOT_FIXTURES_DIR) + "/chatalot-client-register-request.json");
  rapidjson::Document doc;
  doc.Parse(fixture.data(), fixture.size());
  if (fixture.empty() || doc.HasParseError() || !doc.IsObject()) {
    std::fprintf(stderr, "cannot read the client fixture\n");
    std::exit(1);
  }
  rapidjson::Document keys(rapidjson::kObjectType);
  auto& a = keys.GetAllocator();
  for (const char* name : {"identity_key", "signed_prekey", "one_time_prekeys"}) {
    rapidjson::Value copy(doc[name], a);
    keys.AddMember(rapidjson::StringRef(name), copy, a);
  }
  auto& prekeys = keys["one_time_prekeys"];
  while (prekeys.Size() > 2) prekeys.PopBack();
  write_seed("session_json", "keys.json", compact(keys));
  keys["one_time_prekeys"][1]["key_id"] = keys["one_time_prekeys"][0]["key_id"].GetUint();
  write_seed("session_json", "keys-duplicate-prekey.json", compact(keys));
  keys.RemoveMember("one_time_prekeys");
  write_seed("session_json", "keys-no-prekeys.json", compact(keys));
}

// --- Tokens ------------------------------------------------------------------------------------

std::string sign_raw(std::string_view header, std::string_view payload) {
  std::string token = base64url_encode(header) + "." + base64url_encode(payload);
  return token + "." + base64url_encode(*fuzz::fuzz_keys().private_key.sign(token));
}

void token_seeds() {
  const std::int64_t now = fuzz::kFuzzNow;
  AccessClaims claims;
  claims.sub = "3f2b8c1e-9d4a-4e6b-8f1c-2a7d5e9b0c43";
  claims.username = "alice_test";
  claims.is_admin = true;
  claims.iat = now - 60;
  claims.exp = claims.iat + kAccessTokenSeconds;
  claims.jti = "5d0e7b2a-1c3f-4a8e-9b6d-7f2e1a0c9d84";
  const std::string token = *sign_access_token(fuzz::fuzz_keys().private_key, claims);
  AccessClaims expired = claims;
  expired.iat = now - 3600;
  expired.exp = expired.iat + kAccessTokenSeconds;
  const std::string old = *sign_access_token(fuzz::fuzz_keys().private_key, expired);

  write_seed("bearer_jwt", "valid", "ABearer " + token);
  write_seed("bearer_jwt", "valid-blanks", "A \t bEaReR   " + token + " \t");
  write_seed("bearer_jwt", "expired", "ABearer " + old);
  write_seed("bearer_jwt", "bad-signature", "ABearer " + token.substr(0, token.size() - 4) + "AAAA");
  write_seed("bearer_jwt", "basic", "ABasic YWxpY2U6c2VjcmV0");
  write_seed("bearer_jwt", "blank-inside", "ABearer abc def");
  write_seed("bearer_jwt", "two-dots", "ABearer a.b");

  const std::string header = R"({"alg":"EdDSA","typ":"JWT"})";
  const std::string payload =
      R"({"sub":"3f2b8c1e-9d4a-4e6b-8f1c-2a7d5e9b0c43","username":"alice_test","is_admin":true,)"
      R"("is_owner":false,"iat":1767225540,"exp":1767226440,"jti":"j","aud":"chatalot"})";
  write_seed("bearer_jwt", "signed-valid", "S" + header + "\n" + payload);
  write_seed("bearer_jwt", "signed-long-lifetime",
             "S" + header + "\n" +
                 R"({"sub":"s","username":"u","is_admin":false,"is_owner":true,"iat":1767225540,)"
                 R"("exp":1767229140,"jti":"j","aud":"chatalot"})");
  write_seed("bearer_jwt", "signed-duplicate-aud",
             "S" + header + "\n" + payload.substr(0, payload.size() - 1) + R"(,"aud":"other"})");
  write_seed("bearer_jwt", "signed-crit", R"(S{"alg":"EdDSA","crit":["exp"]})" "\n" + payload);
  write_seed("bearer_jwt", "signed-alg-none", R"(S{"alg":"none","typ":"JWT"})" "\n" + payload);
  write_seed("bearer_jwt", "signed-future-iat",
             "S" + header + "\n" +
                 R"({"sub":"s","username":"u","is_admin":false,"is_owner":false,"iat":1767229140,)"
                 R"("exp":1767229200,"jti":"j","aud":"chatalot"})");
  write_seed("bearer_jwt", "time-edges-max",
             "T9223372036854775807\n86400\n"
             R"({"sub":"s","username":"u","is_admin":false,"is_owner":false,)"
             R"("iat":9223372036854775000,"exp":9223372036854775807,"jti":"j","aud":"chatalot"})");
  write_seed("bearer_jwt", "time-edges-min",
             "T-9223372036854775808\n-5\n"
             R"({"sub":"s","username":"u","is_admin":false,"is_owner":false,)"
             R"("iat":-9223372036854775808,"exp":-9223372036854775000,"jti":"j","aud":"chatalot"})");
  write_seed("bearer_jwt", "raw-valid", "A  Bearer " + sign_raw(header, payload));
}

// --- Configuration -----------------------------------------------------------------------------

void config_seeds() {
  const std::pair<const char*, const char*> envs[] = {
      {"empty", "0"},
      {"production",
       "\x0f\nREGISTRATION_MODE=invite_only\nADMIN_USERNAME=alice\nPUBLIC_URL=https://chat.example\n"
       "DATABASE_URL=postgresql://chatalot:s3cret@db.internal:5432/chatalot?sslmode=require\n"
       "REDIS_URL=redis://:hunter2@127.0.0.1:6379/0\nJWT_PRIVATE_KEY_PATH=/etc/chatalot/jwt.pem\n"
       "JWT_PUBLIC_KEY_PATH=/etc/chatalot/jwt.pub.pem\nWORKER_THREADS=16\nREQUEST_TIMEOUT_MS=30000\n"
       "ARGON2_MEMORY_KIB=65536\nARGON2_ITERATIONS=3\nARGON2_MAX_CONCURRENT=2\n"
       "DB_STATEMENT_TIMEOUT_MS=5000\nREDIS_TIMEOUT_MS=250\nRATE_LIMIT_FAIL_OPEN=false\n"
       "RATE_LIMIT_INVITE_PER_SECOND=0.1\nRATE_LIMIT_INVITE_BURST=5\n"
       "RATE_LIMIT_INVITE_NETWORK_PER_SECOND=0.5\nRATE_LIMIT_INVITE_NETWORK_BURST=25\n"
       "RATE_LIMIT_REGISTER_PER_SECOND=0.05\nRATE_LIMIT_REGISTER_BURST=5\n"},
      {"problems",
       "\x03\nREGISTRATION_MODE= Open-ish \nWORKER_THREADS=0x10\nREQUEST_TIMEOUT_MS=99\n"
       "RATE_LIMIT_FAIL_OPEN=maybe\nRATE_LIMIT_INVITE_PER_SECOND=nan\nRATE_LIMIT_INVITE_BURST=1e400\n"
       "REDIS_URL=http://user:pw@h/\n"},
      {"blanks-and-case",
       "1\nREGISTRATION_MODE=  CLOSED\t\nRATE_LIMIT_FAIL_OPEN= YES \nDATABASE_URL= host=db password='a b' \n"
       "ARGON2_MEMORY_KIB=\t19456\nRATE_LIMIT_REGISTER_PER_SECOND=0x1p-3\nRATE_LIMIT_INVITE_BURST= 1.0 \n"},
      {"empty-values", "\x0f\nREGISTRATION_MODE=\nDATABASE_URL=\nREDIS_URL= \nWORKER_THREADS=\n"},
      {"unix-redis", "2\nREDIS_URL=unix:///run/redis/redis.sock\nREDIS_TIMEOUT_MS=10000\n"},
      {"cluster-redis", "2\nREDIS_URL=redis+cluster://:hunter2@10.0.0.1:7000,[::1]:7001\n"},
  };
  for (const auto& [name, text] : envs) write_seed("config", name, text);
}

}  // namespace
}  // namespace chatalot

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_seeds CORPUS_DIR\n");
    return 2;
  }
  chatalot::g_dir = argv[1];
  ::mkdir(argv[1], 0755);
  chatalot::fcgi_seeds();
  chatalot::registration_seeds();
  chatalot::invite_seeds();
  chatalot::session_seeds();
  chatalot::token_seeds();
  chatalot::config_seeds();
  std::printf("wrote %d seeds under %s\n", chatalot::g_written, argv[1]);
  return 0;
}
