#include "auth_config.h"

#include "json.h"

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
      [body = auth_config_body(config)](const Request&) { return json_response(body); },
      nullptr,
  };
}

}  // namespace chatalot
