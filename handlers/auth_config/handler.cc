#include "handler.h"

#include "http/json_writer.h"
#include "http/render.h"

namespace chatalot {

std::string auth_config_body(const Config& config) {
  JsonWriter w;
  w.start_object();
  w.field("registration_mode", to_string(config.registration_mode));
  w.field("e2e_enabled", true);
  if (!config.public_url.empty()) w.field("public_url", config.public_url);
  w.end_object();
  return w.take();
}

Endpoint auth_config_endpoint(const Config& config) {
  return Endpoint{
      {{"GET", "HEAD"}, false},
      [body = auth_config_body(config)] {
        return std::make_unique<FunctionWorker>([body](const Request&) { return json_response(body); });
      },
      nullptr,
  };
}

}  // namespace chatalot
