#include "invite_redeem.h"

#include <memory>

#include "codes.h"
#include "invite_limits.h"
#include "invites.h"
#include "json.h"
#include "log.h"
#include "pg.h"

namespace chatalot {
namespace {

const char* const kInviteInvalid = "invalid, expired, or fully used invite code";

const std::vector<Statement> kStatements = {
    {"usable_invite",
     "SELECT " CHATALOT_RFC3339("expires_at") ", max_uses - used_count"
     " FROM registration_invites WHERE code_hash = $1 AND " CHATALOT_INVITE_USABLE},
};

struct Context {
  Context(const Config& config, RedisTarget redis)
      : mode(config.registration_mode),
        db(config.database_url, config.db_statement_timeout_ms, kStatements),
        limiter(std::move(redis), config.redis_timeout_ms, config.rate_limit_fail_open),
        limits(limiter, config.invite_limit, config.invite_global_limit) {}

  RegistrationMode mode;
  Database db;
  RateLimiter limiter;
  InviteLimits limits;
};

Response handle(Context& ctx, const Request& request) {
  // Closed: answered like registration, before anything is spent.
  if (ctx.mode == RegistrationMode::kClosed) {
    return error_response(invalid_argument("registration is currently disabled"));
  }
  if (std::optional<Response> refused = ctx.limits.begin(request.remote_addr)) return *refused;
  Result<rapidjson::Document> body = parse_json_object(request.body);
  if (!body.is_ok()) return error_response(body.status());
  const auto field = body->FindMember("invite_code");
  if (field == body->MemberEnd() || !field->value.IsString()) {
    return error_response(invalid_argument("invite_code must be a string"));
  }
  const std::string code(field->value.GetString(), field->value.GetStringLength());
  const std::string normalized = normalize_invite_code(code);
  bool valid = false;
  std::string expires_at;
  std::optional<std::int64_t> uses_remaining;
  if (!normalized.empty()) {
    Result<PgConnection*> conn = ctx.db.connection();
    Result<PgResult> row = conn.is_ok()
                               ? (*conn)->exec("usable_invite", {invite_code_hash(normalized)})
                               : Result<PgResult>(conn.status());
    if (!row.is_ok()) {
      ctx.limits.finish(request.remote_addr, true);  // nothing was tried: no attempt spent
      return dependency_failure(row.status());
    }
    valid = row->rows() == 1;
    if (valid) {
      expires_at = row->get(0, 0);
      if (!row->is_null(0, 1)) uses_remaining = std::stoll(row->get(0, 1));
    }
  }
  ctx.limits.finish(request.remote_addr, valid);
  if (!valid) return error_response(invalid_argument(kInviteInvalid));
  JsonWriter w;
  w.start_object();
  w.field("valid", true);
  w.key("expires_at");
  expires_at.empty() ? w.null() : w.string(expires_at);
  w.key("uses_remaining");
  uses_remaining ? w.integer(*uses_remaining) : w.null();
  w.end_object();
  return json_response(w.take());
}

}  // namespace

Result<Endpoint> invite_redeem_endpoint(const Config& config) {
  Result<RedisTarget> redis = parse_redis_url(config.redis_url);
  if (!redis.is_ok()) return redis.status();
  auto ctx = std::make_shared<Context>(config, std::move(redis).value());
  Endpoint endpoint;
  endpoint.rules = {{"POST"}, true};
  endpoint.handle = [ctx](const Request& request) { return handle(*ctx, request); };
  const std::string url = config.database_url;
  endpoint.on_start = [url]() { return startup_probe(url).status_or_ok(); };
  return endpoint;
}

}  // namespace chatalot
