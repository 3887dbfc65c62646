#include "handler.h"

int main(int argc, char** argv) {
  return chatalot::run_main(argc, argv, "chatalot-admin-users",
                            chatalot::kNeedDatabase | chatalot::kNeedJwtVerify,
                            chatalot::admin_users_endpoint);
}
