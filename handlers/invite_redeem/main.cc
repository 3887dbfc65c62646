#include "handler.h"

int main(int argc, char** argv) {
  return chatalot::run_main(argc, argv, "chatalot-invite-redeem",
                            chatalot::kNeedDatabase | chatalot::kNeedRedis,
                            chatalot::invite_redeem_endpoint);
}
