#include "handler.h"

int main(int argc, char** argv) {
  return chatalot::run_main(argc, argv, "chatalot-keys",
                            chatalot::kNeedDatabase | chatalot::kNeedJwtVerify,
                            chatalot::keys_endpoint);
}
