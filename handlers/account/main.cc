#include "handler.h"

int main(int argc, char** argv) {
  return chatalot::run_main(argc, argv, "chatalot-account",
                            chatalot::kNeedDatabase | chatalot::kNeedRedis | chatalot::kNeedJwtVerify,
                            chatalot::account_endpoint);
}
