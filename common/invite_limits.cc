#include "invite_limits.h"

namespace chatalot {
namespace {

const std::string kGlobalKey = "chatalot:rl:invite-failures";

std::string address_key(const std::string& remote_addr) {
  return "chatalot:rl:invite:" + client_key(remote_addr);
}

}  // namespace

Response limit_failure(const Result<LimitDecision>& decision) {
  if (!decision.is_ok()) return error_response(decision.status());
  return RateLimiter::refusal(*decision);
}

std::optional<Response> InviteLimits::begin(const std::string& remote_addr) {
  Result<LimitDecision> mine =
      limiter_.apply(address_key(remote_addr), per_address_, RateLimiter::Mode::kTake);
  if (!mine.is_ok() || !mine->allowed) return limit_failure(mine);
  Result<LimitDecision> all = limiter_.apply(kGlobalKey, global_, RateLimiter::Mode::kPeek);
  if (!all.is_ok() || !all->allowed) {
    finish(remote_addr, true);  // not this address's doing: give its attempt back
    return limit_failure(all);
  }
  return std::nullopt;
}

void InviteLimits::finish(const std::string& remote_addr, bool valid) {
  (void)(valid ? limiter_.apply(address_key(remote_addr), per_address_, RateLimiter::Mode::kRefund)
               : limiter_.apply(kGlobalKey, global_, RateLimiter::Mode::kTake))
      .is_ok();
}

}  // namespace chatalot
