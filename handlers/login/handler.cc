#include "handler.h"

#include <memory>

#include "core/sessions.h"
#include "crypto/crypto.h"
#include "crypto/jwt.h"
#include "crypto/password.h"
#include "http/render.h"
#include "http/views.h"
#include "limits/gcra.h"
#include "store/pg_sessions.h"
#include "store/schema.h"

namespace chatalot {
namespace {

struct Shared {
  Shared(const Config& c, JwtSigner jwt, RedisTarget redis_target)
      : config(c),
        limits(credential_limits(c)),
        signer(std::move(jwt)),
        hasher(argon2_params(c), c.argon2_max_concurrent, kHashQueueTimeout),
        redis(std::move(redis_target)) {}

  const Config config;
  const CredentialLimits limits;
  const JwtSigner signer;
  Argon2Hasher hasher;
  const SystemClock clock;
  const RedisTarget redis;
};

std::string signed_in_json(const SignedIn& s) {
  return auth_response_json(s.access_token, s.refresh_token, s.account, std::nullopt);
}

class LoginWorker final : public Worker {
 public:
  explicit LoginWorker(Shared& shared)
      : shared_(shared),
        pg_(pg_options(shared.config)),
        limiter_(shared.redis, shared.config.redis_timeout_ms, shared.config.rate_limit_fail_open) {}

  Response handle(const Request& request) override {
    LoginDeps deps{shared_.limits, sessions_,     limiter_, shared_.hasher,
                   shared_.signer, shared_.clock, random_};
    return render(login({request.body, request.remote_addr, request.user_agent, request.request_id}, deps),
                  request.request_id, signed_in_json);
  }

 private:
  Shared& shared_;
  PgLink pg_;
  RedisLimiter limiter_;
  PgSessionStore sessions_{pg_, shared_.config.session_days};
  OpenSslRandom random_;
};

}  // namespace

Result<Endpoint> login_endpoint(const Config& config) {
  Result<RedisTarget> redis = parse_redis_url(config.redis_url);
  if (!redis.is_ok()) return redis.status();
  Result<JwtSigner> signer = JwtSigner::load(config.jwt_private_key_path, config.access_token_seconds);
  if (!signer.is_ok()) return signer.status();
  auto shared = std::make_shared<Shared>(config, std::move(signer).value(), std::move(redis).value());
  Endpoint endpoint;
  endpoint.rules = {{"POST"}, true};
  endpoint.new_worker = [shared] { return std::make_unique<LoginWorker>(*shared); };
  endpoint.on_start = [shared]() -> Status {
    // The hash an unknown account is verified against, made now rather than on the first
    // request (whose answer would otherwise take twice as long, and tell).
    CHATALOT_RETURN_IF_ERROR(shared->hasher.verify(std::nullopt, "").status_or_ok());
    return startup_probe(pg_options(shared->config)).status_or_ok();
  };
  return endpoint;
}

}  // namespace chatalot
