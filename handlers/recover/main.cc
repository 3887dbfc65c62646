#include "handler.h"

int main(int argc, char** argv) {
  return chatalot::run_main(argc, argv, "chatalot-recover",
                            chatalot::kNeedDatabase | chatalot::kNeedRedis, chatalot::recover_endpoint);
}
