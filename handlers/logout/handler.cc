#include "handler.h"

#include <memory>

#include "core/sessions.h"
#include "http/render.h"
#include "store/pg_sessions.h"
#include "store/schema.h"

namespace chatalot {
namespace {

class LogoutWorker final : public Worker {
 public:
  explicit LogoutWorker(const Config& config)
      : pg_(pg_options(config)),
        sessions_(pg_, config.session_days) {}

  Response handle(const Request& request) override {
    return render(
        logout({request.body, request.remote_addr, request.user_agent, request.request_id}, sessions_),
        request.request_id);
  }

 private:
  PgLink pg_;
  PgSessionStore sessions_;
};

}  // namespace

Result<Endpoint> logout_endpoint(const Config& config) {
  auto shared = std::make_shared<const Config>(config);
  Endpoint endpoint;
  endpoint.rules = {{"POST"}, true};
  endpoint.new_worker = [shared] { return std::make_unique<LogoutWorker>(*shared); };
  endpoint.on_start = [shared] { return startup_probe(pg_options(*shared)).status_or_ok(); };
  return endpoint;
}

}  // namespace chatalot
