#include "handler.h"

#include <memory>
#include <optional>

#include "core/account.h"
#include "crypto/crypto.h"
#include "crypto/jwt.h"
#include "crypto/password.h"
#include "http/json_writer.h"
#include "http/render.h"
#include "http/views.h"
#include "limits/gcra.h"
#include "store/pg_sessions.h"
#include "store/pg_stores.h"
#include "store/schema.h"

namespace chatalot {
namespace {

constexpr std::string_view kSessionPrefix = "/api/account/sessions/";

enum class Action { kMe, kSessions, kEndSession, kLogoutAll, kPassword, kRecoveryCode };

struct Route {
  std::string_view path;
  std::string_view method;
  Action action;
};

constexpr Route kRoutes[] = {
    {"/api/account/me", "GET", Action::kMe},
    {"/api/account/sessions", "GET", Action::kSessions},
    {"/api/account/logout-all", "POST", Action::kLogoutAll},
    {"/api/account/password", "PUT", Action::kPassword},
    {"/api/account/regenerate-recovery-code", "POST", Action::kRecoveryCode},
};

// The route of a path: an exact one, or one session (its id, one segment); nullopt: 404.
std::optional<Route> route_of(std::string_view path, std::string_view* id) {
  for (const Route& r : kRoutes) {
    if (path == r.path) return r;
  }
  if (!path.starts_with(kSessionPrefix)) return std::nullopt;
  *id = path.substr(kSessionPrefix.size());
  if (id->empty() || id->find('/') != std::string_view::npos) return std::nullopt;
  return Route{kSessionPrefix, "DELETE", Action::kEndSession};
}

struct Shared {
  Shared(const Config& c, JwtVerifier jwt, RedisTarget redis_target)
      : config(c),
        limits(credential_limits(c)),
        verifier(std::move(jwt)),
        hasher(argon2_params(c), c.argon2_max_concurrent, kHashQueueTimeout),
        redis(std::move(redis_target)) {}

  const Config config;
  const CredentialLimits limits;
  const JwtVerifier verifier;
  Argon2Hasher hasher;
  const SystemClock clock;
  const RedisTarget redis;
};

std::string user_json(const Account& account) {
  JsonWriter w;
  write_user_public(w, account);
  return w.take();
}

std::string sessions_json(const std::vector<SessionInfo>& sessions) {
  JsonWriter w;
  w.start_array();
  for (const SessionInfo& s : sessions) {
    w.start_object();
    w.field("id", s.id);
    w.nullable_field("device_name", s.device_name);
    w.nullable_field("ip_address", s.ip_address);
    w.field("created_at", s.created_at);
    w.field("expires_at", s.expires_at);
    w.end_object();
  }
  w.end_array();
  return w.take();
}

std::string revoked_count_json(std::int64_t count) {
  JsonWriter w;
  w.start_object();
  w.field("revoked_count", count);
  w.end_object();
  return w.take();
}

class AccountWorker final : public Worker {
 public:
  explicit AccountWorker(Shared& shared)
      : shared_(shared),
        pg_(pg_options(shared.config)),
        limiter_(shared.redis, shared.config.redis_timeout_ms, shared.config.rate_limit_fail_open) {}

  Response handle(const Request& request) override {
    std::string_view id;
    const std::optional<Route> route = route_of(request.path, &id);
    if (!route) return render_error({Code::kNotFound, Msg::kNotFound});
    if (request.method != route->method) {
      return render_error(method_not_allowed(request.method, std::string(route->method)));
    }
    if (route->action == Action::kMe) {
      return render(my_account(request.authorization, shared_.verifier, shared_.clock, sessions_),
                    request.request_id, user_json);
    }
    AuthDeps auth{shared_.verifier, shared_.clock, users_};
    Result<Caller> caller = authenticate(request.authorization, auth);
    if (!caller.is_ok()) return render_error(caller.status(), request.request_id);
    return act(route->action, *caller, request, id);
  }

 private:
  Response act(Action action, const Caller& caller, const Request& request, std::string_view id) {
    const std::string_view rid = request.request_id;
    switch (action) {
      case Action::kMe:  // answered in handle()
      case Action::kSessions:
        return render(my_sessions(caller, sessions_), rid, sessions_json);
      case Action::kEndSession:
        return render(end_my_session(caller, id, rid, sessions_), rid);
      case Action::kLogoutAll:
        return render(end_all_my_sessions(caller, rid, sessions_), rid, revoked_count_json);
      case Action::kPassword: {
        PasswordChangeDeps deps{shared_.limits, sessions_, limiter_, shared_.hasher};
        return render(change_password(caller, request.body, request.remote_addr, rid, deps), rid);
      }
      case Action::kRecoveryCode:
        return render(regenerate_recovery_code(caller, rid, sessions_, random_), rid,
                      recovery_code_json);
    }
    return render_error(internal_error("unknown account action"), rid);
  }

  Shared& shared_;
  PgLink pg_;
  RedisLimiter limiter_;
  PgSessionStore sessions_{pg_, shared_.config.session_days};
  PgUserDirectory users_{pg_};
  OpenSslRandom random_;
};

}  // namespace

Result<Endpoint> account_endpoint(const Config& config) {
  Result<RedisTarget> redis = parse_redis_url(config.redis_url);
  if (!redis.is_ok()) return redis.status();
  Result<JwtVerifier> verifier = JwtVerifier::load(config.jwt_public_key_path, config.access_token_seconds);
  if (!verifier.is_ok()) return verifier.status();
  auto shared = std::make_shared<Shared>(config, std::move(verifier).value(), std::move(redis).value());
  Endpoint endpoint;
  // Every method reaches the handler, which answers 405 with the Allow of the path asked for.
  endpoint.rules = {{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}, true};
  endpoint.new_worker = [shared] { return std::make_unique<AccountWorker>(*shared); };
  endpoint.on_start = [shared] { return startup_probe(pg_options(shared->config)).status_or_ok(); };
  return endpoint;
}

}  // namespace chatalot
