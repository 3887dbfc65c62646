#include "handler.h"

#include <memory>

#include "http/json_writer.h"
#include "http/render.h"
#include "limits/gcra.h"
#include "store/pg_stores.h"
#include "store/schema.h"

namespace chatalot {
namespace {

struct Shared {
  const Config config;
  const InviteCheckPolicy policy;
  const RedisTarget redis;
};

class InviteRedeemWorker final : public Worker {
 public:
  explicit InviteRedeemWorker(const Shared& shared)
      : shared_(shared),
        pg_(pg_options(shared.config)),
        limiter_(shared.redis, shared.config.redis_timeout_ms, shared.config.rate_limit_fail_open) {}

  Response handle(const Request& request) override {
    InviteCheckDeps deps{shared_.policy, invites_, limiter_};
    return render(check_invite(request.body, request.remote_addr, deps), request.request_id,
                  usable_invite_json);
  }

 private:
  const Shared& shared_;
  PgLink pg_;
  RedisLimiter limiter_;
  PgInviteStore invites_{pg_};
};

}  // namespace

std::string usable_invite_json(const UsableInvite& invite) {
  JsonWriter w;
  w.start_object();
  w.field("valid", true);
  w.nullable_field("expires_at", invite.expires_at);
  w.nullable_field("uses_remaining", invite.uses_remaining);
  w.end_object();
  return w.take();
}

Result<Endpoint> invite_redeem_endpoint(const Config& config) {
  Result<RedisTarget> redis = parse_redis_url(config.redis_url);
  if (!redis.is_ok()) return redis.status();
  auto shared = std::make_shared<Shared>(
      config, InviteCheckPolicy{config.registration_mode, config.invite_limit, config.invite_network_limit},
      std::move(redis).value());
  Endpoint endpoint;
  endpoint.rules = {{"POST"}, true};
  endpoint.new_worker = [shared] { return std::make_unique<InviteRedeemWorker>(*shared); };
  endpoint.on_start = [shared] { return startup_probe(pg_options(shared->config)).status_or_ok(); };
  return endpoint;
}

}  // namespace chatalot
