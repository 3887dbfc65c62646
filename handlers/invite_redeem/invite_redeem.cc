#include "invite_redeem.h"

namespace chatalot {

Result<Endpoint> invite_redeem_endpoint(const Config& /*config*/) {
  return Status(ErrorCode::kInternal, "not built yet");
}

}  // namespace chatalot
