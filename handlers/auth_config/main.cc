#include "handler.h"

int main(int argc, char** argv) {
  return chatalot::run_main(argc, argv, "chatalot-auth-config", chatalot::kNeedNothing,
                            [](const chatalot::Config& config) -> chatalot::Result<chatalot::Endpoint> {
                              return chatalot::auth_config_endpoint(config);
                            });
}
