#include "admin_invites.h"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>

#include "crypto.h"
#include "json.h"
#include "jwt.h"
#include "log.h"
#include "pg.h"

namespace chatalot {
namespace {

constexpr std::string_view kCollectionPath = "/api/admin/invites";
constexpr std::string_view kItemPrefix = "/api/admin/invites/";
constexpr std::int64_t kTokenLeewaySeconds = 60;
// The list answers at most the newest 1000 invites: enough for any admin panel, and a bound on
// the response and the query however many invites an instance has accumulated.
constexpr int kListLimit = 1000;

const std::vector<Statement> kStatements = {
    // Every request: the token's claims may be up to 15 minutes old, the database is not.
    {"admin_check", "SELECT is_admin OR is_owner FROM users WHERE id = $1::uuid"},
};

struct Context {
  Context(const Config& config, Ed25519Key public_key)
      : database_url(config.database_url),
        db(config.database_url, config.db_statement_timeout_ms, kStatements),
        key(std::move(public_key)) {}

  std::string database_url;
  Database db;
  Ed25519Key key;
};

// RFC 6750 section 3: a 401 names the scheme the client should use.
Response unauthorized(const std::string& message) {
  Response response = error_response(Status(ErrorCode::kUnauthorized, message));
  response.headers.emplace_back("WWW-Authenticate", "Bearer");
  return response;
}

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::int64_t now_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Integers only. A number that is integral but too large for 64 bits (RapidJSON reads it as a
// double) is an integer out of range, so it gets the range message rather than the type one.
Status read_integer(const rapidjson::Value& body, const char* name,
                    std::optional<std::int64_t>* out) {
  const auto it = body.FindMember(name);
  if (it == body.MemberEnd() || it->value.IsNull()) return Status::ok();
  const rapidjson::Value& v = it->value;
  constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
  constexpr std::int64_t kMin = std::numeric_limits<std::int64_t>::min();
  if (v.IsInt64()) {
    *out = v.GetInt64();
  } else if (v.IsUint64()) {
    *out = kMax;
  } else if (v.IsDouble() && std::fabs(v.GetDouble()) >= 0x1p63 &&
             std::trunc(v.GetDouble()) == v.GetDouble()) {
    *out = v.GetDouble() > 0 ? kMax : kMin;
  } else {
    return invalid_argument(std::string(name) + " must be an integer or null");
  }
  return Status::ok();
}

Status read_string(const rapidjson::Value& body, const char* name,
                   std::optional<std::string>* out) {
  const auto it = body.FindMember(name);
  if (it == body.MemberEnd() || it->value.IsNull()) return Status::ok();
  if (!it->value.IsString()) {
    return invalid_argument(std::string(name) + " must be a string or null");
  }
  *out = std::string(it->value.GetString(), it->value.GetStringLength());
  return Status::ok();
}

// The signed claims, before anything touches the database.
Result<AccessClaims> verify_request_token(const Context& ctx, const Request& request) {
  const std::optional<std::string_view> token = bearer_token(request.authorization);
  if (!token) return Status(ErrorCode::kUnauthorized, "missing or invalid access token");
  Result<AccessClaims> claims =
      verify_access_token(ctx.key, *token, now_seconds(), kTokenLeewaySeconds);
  if (!claims.is_ok()) return claims.status();
  // A signed token with a sub that is no UUID was not issued by us for a user; casting it in
  // SQL would be an error, and that must not turn into a 500.
  if (!is_uuid(claims->sub)) return Status(ErrorCode::kUnauthorized, "invalid token");
  return claims;
}

// ok, 401 (the user no longer exists), 403 (no longer an admin), or the database's failure.
Status check_admin(PgConnection& db, const std::string& user_id) {
  Result<PgResult> r = db.exec("admin_check", {user_id});
  if (!r.is_ok()) return r.status();
  if (r->rows() == 0) return {ErrorCode::kUnauthorized, "invalid token"};
  if (!r->get_bool(0, 0)) return {ErrorCode::kForbidden, "admin access required"};
  return Status::ok();
}

Response create(PgConnection& db, const Request& request, const std::string& admin_id) {
  Result<rapidjson::Document> body = parse_json_object(request.body);
  if (!body.is_ok()) return error_response(body.status());
  Result<InviteSpec> spec = invite_spec_from_json(*body);
  if (!spec.is_ok()) return error_response(spec.status());
  Result<CreatedInvite> created = create_invite(db, *spec, admin_id, request.request_id);
  if (!created.is_ok()) return dependency_failure(created.status());
  log_info("invite " + created->id + " created by " + admin_id +
           " request_id=" + request.request_id);
  JsonWriter w;
  write_invite_json(w, listed_invite(*created), created->code);
  return json_response(w.take());
}

Response list(PgConnection& db) {
  Result<std::vector<ListedInvite>> invites = list_invites(db, kListLimit);
  if (!invites.is_ok()) return dependency_failure(invites.status());
  JsonWriter w;
  w.start_array();
  for (const ListedInvite& invite : *invites) write_invite_json(w, invite);
  w.end_array();
  return json_response(w.take());
}

Response revoke(PgConnection& db, const Request& request, const std::string& admin_id,
                const std::string& invite_id) {
  Result<std::optional<ListedInvite>> revoked =
      revoke_invite(db, invite_id, admin_id, request.request_id);
  if (!revoked.is_ok()) return dependency_failure(revoked.status());
  if (!*revoked) return error_response(Status(ErrorCode::kNotFound, "invite not found"));
  log_info("invite " + invite_id + " revoked by " + admin_id + " request_id=" + request.request_id);
  JsonWriter w;
  write_invite_json(w, **revoked);
  return json_response(w.take());
}

Response handle(Context& ctx, const Request& request) {
  const std::string_view path = request.path;
  const bool collection = path == kCollectionPath;
  const std::string_view item_id =
      path.starts_with(kItemPrefix) ? path.substr(kItemPrefix.size()) : std::string_view();
  const bool item = !item_id.empty() && item_id.find('/') == std::string_view::npos;
  if (!collection && !item) return error_response(Status(ErrorCode::kNotFound, "not found"));
  const std::string& method = request.method;
  if (collection ? method != "GET" && method != "POST" : method != "DELETE") {
    return rejection(Status(ErrorCode::kMethodNotAllowed, "method " + method + " is not allowed"),
                     collection ? "GET, POST" : "DELETE");
  }

  Result<AccessClaims> claims = verify_request_token(ctx, request);
  if (!claims.is_ok()) return unauthorized(claims.status().message());
  Result<PgConnection*> conn = ctx.db.connection();
  if (!conn.is_ok()) return dependency_failure(conn.status());
  PgConnection& db = **conn;
  const std::string& admin_id = claims->sub;
  if (Status s = check_admin(db, admin_id); !s.is_ok()) {
    if (s.code() == ErrorCode::kUnauthorized) return unauthorized(s.message());
    if (s.code() == ErrorCode::kForbidden) return error_response(s);
    return dependency_failure(s);
  }

  if (item) return revoke(db, request, admin_id, std::string(item_id));
  if (method == "POST") return create(db, request, admin_id);
  return list(db);
}

}  // namespace

Result<InviteSpec> invite_spec_from_json(const rapidjson::Value& body) {
  InviteSpec spec;
  if (Status s = read_integer(body, "max_uses", &spec.max_uses); !s.is_ok()) return s;
  if (Status s = read_integer(body, "expires_in_hours", &spec.expires_in_hours); !s.is_ok()) {
    return s;
  }
  if (Status s = read_string(body, "note", &spec.note); !s.is_ok()) return s;
  if (Status s = check_invite_spec(spec); !s.is_ok()) return s;
  return spec;
}

std::optional<std::string_view> bearer_token(std::string_view authorization) {
  while (!authorization.empty() && is_blank(authorization.front())) authorization.remove_prefix(1);
  while (!authorization.empty() && is_blank(authorization.back())) authorization.remove_suffix(1);
  constexpr std::string_view kScheme = "bearer";
  if (authorization.size() <= kScheme.size() || !is_blank(authorization[kScheme.size()])) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    const char c = authorization[i];
    if ((c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c) != kScheme[i]) {
      return std::nullopt;
    }
  }
  std::string_view token = authorization.substr(kScheme.size());
  while (!token.empty() && is_blank(token.front())) token.remove_prefix(1);
  for (char c : token) {
    if (is_blank(c)) return std::nullopt;
  }
  return token;  // not empty: the blanks around it were trimmed and the header is longer
}

Result<Endpoint> admin_invites_endpoint(const Config& config) {
  Result<Ed25519Key> key = Ed25519Key::load_public_pem(config.jwt_public_key_path);
  if (!key.is_ok()) {
    return Status(ErrorCode::kInvalidArgument, "JWT_PUBLIC_KEY_PATH: " + key.status().message());
  }
  auto ctx = std::make_shared<Context>(config, std::move(key).value());
  Endpoint endpoint;
  // Only POST carries a body; the media type and size checks apply to it alone.
  // Every method reaches the handler, which answers 405 with the Allow of the path asked for.
  endpoint.rules = {{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}, true};
  endpoint.handle = [ctx](const Request& request) { return handle(*ctx, request); };
  endpoint.on_start = [ctx]() { return startup_probe(ctx->database_url).status_or_ok(); };
  return endpoint;
}

}  // namespace chatalot
