#include "handler.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>

#include "core/log.h"
#include "crypto/crypto.h"
#include "crypto/ed25519.h"
#include "crypto/jwt.h"
#include "crypto/password.h"
#include "http/render.h"
#include "http/views.h"
#include "limits/gcra.h"
#include "store/pg_stores.h"
#include "store/schema.h"

namespace chatalot {
namespace {

// What every worker thread of the process shares.
struct Shared {
  Shared(const Config& c, JwtSigner jwt, RedisTarget redis_target)
      : config(c),
        policy{c.registration_mode, c.register_limit, c.invite_limit, c.invite_network_limit},
        signer(std::move(jwt)),
        hasher(argon2_params(c), c.argon2_max_concurrent, kHashQueueTimeout),
        redis(std::move(redis_target)) {}

  const Config config;
  const RegistrationPolicy policy;
  const JwtSigner signer;
  Argon2Hasher hasher;
  const OpenSslKeyChecks keys;
  const SystemClock clock;
  const RedisTarget redis;
  std::mutex startup_mu;
  std::atomic<bool> startup_done{false};  // ADMIN_USERNAME applied (deferred if PG was away)
};

// ADMIN_USERNAME: promoted at start-up only, once, if the account exists.
void finish_startup(Shared& shared, AccountStore& accounts) {
  if (shared.startup_done.load()) return;  // the hot path: no lock
  const std::lock_guard<std::mutex> lock(shared.startup_mu);
  if (shared.startup_done.load()) return;
  if (!shared.config.admin_username.empty()) {
    Result<std::optional<std::string>> promoted = accounts.promote_admin(shared.config.admin_username);
    if (!promoted.is_ok()) {
      log_error("ADMIN_USERNAME promotion: " + promoted.status().describe());
      return;
    }
    if (*promoted) log_info("ADMIN_USERNAME: promoted " + **promoted + " to admin");
  }
  shared.startup_done.store(true);
}

class RegisterWorker final : public Worker {
 public:
  explicit RegisterWorker(Shared& shared)
      : shared_(shared),
        pg_(pg_options(shared.config)),
        limiter_(shared.redis, shared.config.redis_timeout_ms, shared.config.rate_limit_fail_open) {}

  Response handle(const Request& request) override {
    if (!shared_.startup_done.load() && pg_.connection().is_ok()) finish_startup(shared_, accounts_);
    RegistrationDeps deps{shared_.policy, accounts_, invites_,      limiter_,     shared_.hasher,
                          shared_.signer, shared_.keys, shared_.clock, random_};
    return render(register_account({request.body, request.remote_addr, request.request_id,
                                    request.user_agent},
                                   deps),
                  request.request_id, registered_json);
  }

 private:
  Shared& shared_;
  PgLink pg_;  // this thread's PostgreSQL connection
  RedisLimiter limiter_;  // this thread's Redis connection
  PgAccountStore accounts_{pg_, shared_.config.session_days};
  PgInviteStore invites_{pg_};
  OpenSslRandom random_;
};

}  // namespace

std::string registered_json(const Registered& r) {
  Account account;
  account.id = r.user_id;
  account.username = r.username;
  account.display_name = r.display_name;
  account.is_admin = r.is_owner;  // a new account is an admin only as the owner
  account.is_owner = r.is_owner;
  account.created_at = r.created_at;
  return auth_response_json(r.access_token, r.refresh_token, account, r.recovery_code);
}

Result<Endpoint> register_endpoint(const Config& config) {
  Result<RedisTarget> redis = parse_redis_url(config.redis_url);
  if (!redis.is_ok()) return redis.status();
  Result<JwtSigner> signer = JwtSigner::load(config.jwt_private_key_path, config.access_token_seconds);
  if (!signer.is_ok()) return signer.status();
  auto shared = std::make_shared<Shared>(config, std::move(signer).value(), std::move(redis).value());
  Endpoint endpoint;
  endpoint.rules = {{"POST"}, true};
  endpoint.new_worker = [shared] { return std::make_unique<RegisterWorker>(*shared); };
  endpoint.on_start = [shared]() -> Status {
    Result<std::optional<PgConnection>> probe = startup_probe(pg_options(shared->config));
    if (!probe.is_ok()) return probe.status();
    if (!probe->has_value()) return Status::ok();  // PG away: on the first request instead
    PgLink link(pg_options(shared->config));
    PgAccountStore accounts(link, shared->config.session_days);
    finish_startup(*shared, accounts);
    return Status::ok();
  };
  return endpoint;
}

}  // namespace chatalot
