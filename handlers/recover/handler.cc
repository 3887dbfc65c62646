#include "handler.h"

#include <memory>

#include "core/sessions.h"
#include "crypto/crypto.h"
#include "crypto/password.h"
#include "http/render.h"
#include "http/views.h"
#include "limits/gcra.h"
#include "store/pg_sessions.h"
#include "store/schema.h"

namespace chatalot {
namespace {

struct Shared {
  Shared(const Config& c, RedisTarget redis_target)
      : config(c),
        limits(credential_limits(c)),
        hasher(argon2_params(c), c.argon2_max_concurrent, kHashQueueTimeout),
        redis(std::move(redis_target)) {}

  const Config config;
  const CredentialLimits limits;
  Argon2Hasher hasher;
  const RedisTarget redis;
};

class RecoverWorker final : public Worker {
 public:
  explicit RecoverWorker(Shared& shared)
      : shared_(shared),
        pg_(pg_options(shared.config)),
        limiter_(shared.redis, shared.config.redis_timeout_ms, shared.config.rate_limit_fail_open) {}

  Response handle(const Request& request) override {
    RecoverDeps deps{shared_.limits, sessions_, limiter_, shared_.hasher, random_};
    return render(recover({request.body, request.remote_addr, request.user_agent, request.request_id}, deps),
                  request.request_id, recovery_code_json);
  }

 private:
  Shared& shared_;
  PgLink pg_;
  RedisLimiter limiter_;
  PgSessionStore sessions_{pg_, shared_.config.session_days};
  OpenSslRandom random_;
};

}  // namespace

Result<Endpoint> recover_endpoint(const Config& config) {
  Result<RedisTarget> redis = parse_redis_url(config.redis_url);
  if (!redis.is_ok()) return redis.status();
  auto shared = std::make_shared<Shared>(config, std::move(redis).value());
  Endpoint endpoint;
  endpoint.rules = {{"POST"}, true};
  endpoint.new_worker = [shared] { return std::make_unique<RecoverWorker>(*shared); };
  endpoint.on_start = [shared] { return startup_probe(pg_options(shared->config)).status_or_ok(); };
  return endpoint;
}

}  // namespace chatalot
