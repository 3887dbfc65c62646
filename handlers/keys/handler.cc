#include "handler.h"

#include <memory>

#include "core/account.h"
#include "crypto/ed25519.h"
#include "crypto/jwt.h"
#include "http/render.h"
#include "store/pg_sessions.h"
#include "store/pg_stores.h"
#include "store/schema.h"

namespace chatalot {
namespace {

struct Shared {
  const Config config;
  const JwtVerifier verifier;
  const SystemClock clock;
  const OpenSslKeyChecks checks;
};

class KeysWorker final : public Worker {
 public:
  explicit KeysWorker(const Shared& shared)
      : shared_(shared), pg_(pg_options(shared.config)) {}

  Response handle(const Request& request) override {
    AuthDeps auth{shared_.verifier, shared_.clock, users_};
    Result<Caller> caller = authenticate(request.authorization, auth);
    if (!caller.is_ok()) return render_error(caller.status(), request.request_id);
    return render(register_keys(*caller, request.body, request.request_id, shared_.checks, keys_),
                  request.request_id);
  }

 private:
  const Shared& shared_;
  PgLink pg_;
  PgKeyStore keys_{pg_};
  PgUserDirectory users_{pg_};
};

}  // namespace

Result<Endpoint> keys_endpoint(const Config& config) {
  Result<JwtVerifier> verifier = JwtVerifier::load(config.jwt_public_key_path, config.access_token_seconds);
  if (!verifier.is_ok()) return verifier.status();
  auto shared = std::make_shared<Shared>(config, std::move(verifier).value(), SystemClock{},
                                         OpenSslKeyChecks{});
  Endpoint endpoint;
  endpoint.rules = {{"POST"}, true};
  endpoint.new_worker = [shared] { return std::make_unique<KeysWorker>(*shared); };
  endpoint.on_start = [shared] { return startup_probe(pg_options(shared->config)).status_or_ok(); };
  return endpoint;
}

}  // namespace chatalot
