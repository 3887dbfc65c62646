#include "handler.h"

int main(int argc, char** argv) {
  return chatalot::run_main(argc, argv, "chatalot-refresh",
                            chatalot::kNeedDatabase | chatalot::kNeedJwtSign,
                            chatalot::refresh_endpoint);
}
