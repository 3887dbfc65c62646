#include "handler.h"

int main(int argc, char** argv) {
  return chatalot::run_main(argc, argv, "chatalot-logout", chatalot::kNeedDatabase,
                            chatalot::logout_endpoint);
}
