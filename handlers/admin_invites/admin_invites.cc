#include "admin_invites.h"

namespace chatalot {

Result<Endpoint> admin_invites_endpoint(const Config& /*config*/) {
  return Status(ErrorCode::kInternal, "not built yet");
}

}  // namespace chatalot
