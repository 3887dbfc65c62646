#include "handler.h"

int main(int argc, char** argv) {
  return chatalot::run_main(argc, argv, "chatalot-register",
                            chatalot::kNeedDatabase | chatalot::kNeedRedis | chatalot::kNeedJwtSign,
                            chatalot::register_endpoint);
}
