#include "handler.h"

int main(int argc, char** argv) {
  return chatalot::run_main(argc, argv, "chatalot-admin-invites",
                            chatalot::kNeedDatabase | chatalot::kNeedJwtVerify,
                            chatalot::admin_invites_endpoint);
}
