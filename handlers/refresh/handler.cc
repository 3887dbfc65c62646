#include "handler.h"

#include <memory>

#include "core/sessions.h"
#include "crypto/crypto.h"
#include "crypto/jwt.h"
#include "http/json_writer.h"
#include "http/render.h"
#include "store/pg_sessions.h"
#include "store/schema.h"

namespace chatalot {
namespace {

struct Shared {
  const Config config;
  const JwtSigner signer;
  const SystemClock clock;
};

std::string token_pair_json(const TokenPair& pair) {
  JsonWriter w;
  w.start_object();
  w.field("access_token", pair.access_token);
  w.field("refresh_token", pair.refresh_token);
  w.end_object();
  return w.take();
}

class RefreshWorker final : public Worker {
 public:
  explicit RefreshWorker(const Shared& shared)
      : shared_(shared), pg_(pg_options(shared.config)) {}

  Response handle(const Request& request) override {
    RefreshDeps deps{shared_.config.refresh_reuse_grace_seconds, sessions_, shared_.signer,
                     shared_.clock, random_};
    return render(refresh({request.body, request.remote_addr, request.user_agent, request.request_id}, deps),
                  request.request_id, token_pair_json);
  }

 private:
  const Shared& shared_;
  PgLink pg_;
  PgSessionStore sessions_{pg_, shared_.config.session_days};
  OpenSslRandom random_;
};

}  // namespace

Result<Endpoint> refresh_endpoint(const Config& config) {
  Result<JwtSigner> signer = JwtSigner::load(config.jwt_private_key_path, config.access_token_seconds);
  if (!signer.is_ok()) return signer.status();
  auto shared = std::make_shared<Shared>(config, std::move(signer).value(), SystemClock{});
  Endpoint endpoint;
  endpoint.rules = {{"POST"}, true};
  endpoint.new_worker = [shared] { return std::make_unique<RefreshWorker>(*shared); };
  endpoint.on_start = [shared] { return startup_probe(pg_options(shared->config)).status_or_ok(); };
  return endpoint;
}

}  // namespace chatalot
