#include "core/status.h"

namespace chatalot {

Message Status::generic_message(Code code) {
  switch (code) {
    case Code::kOk:
    case Code::kInvalidArgument:
    case Code::kTooLarge:
    case Code::kUnsupportedFormat: return Msg::kInvalidRequest;
    case Code::kUnauthenticated: return Msg::kUnauthenticated;
    case Code::kPermissionDenied: return Msg::kPermissionDenied;
    case Code::kNotFound: return Msg::kNotFound;
    case Code::kAlreadyExists: return Msg::kAlreadyExists;
    case Code::kResourceExhausted: return Msg::kRateLimited;
    case Code::kUnsupportedOperation: return Msg::kUnsupportedOperation;
    case Code::kUnavailable: return Msg::kUnavailable;
    case Code::kFailedPrecondition:
    case Code::kInternal: return Msg::kInternal;
  }
  return Msg::kInternal;
}

}  // namespace chatalot
