#include "handler.h"

int main(int argc, char** argv) {
  return chatalot::run_main(argc, argv, "chatalot-login",
                            chatalot::kNeedDatabase | chatalot::kNeedRedis | chatalot::kNeedJwtSign,
                            chatalot::login_endpoint);
}
