// The budgets that an invite attempt spends, shared by the invite check and registration so
// that guessing through either endpoint counts the same (SPEC section 3, invite check):
// per client address (IPv6 by /64), every attempt takes one and a valid code gives it back, so
// only failures count and concurrency cannot overshoot; and one global budget of failures, for
// attacks spread over many addresses. Thread-safe.
#pragma once

#include <optional>
#include <string>

#include "http.h"
#include "rate_limit.h"

namespace chatalot {

class InviteLimits {
 public:
  InviteLimits(RateLimiter& limiter, RateLimit per_address, RateLimit global_failures)
      : limiter_(limiter), per_address_(per_address), global_(global_failures) {}

  // Before the code is looked up: a 429 (or 503 when Redis is away) to answer instead, or
  // nothing when the attempt may go on.
  std::optional<Response> begin(const std::string& remote_addr);
  // After the lookup. Redis failures here are logged only: the answer is already known.
  void finish(const std::string& remote_addr, bool valid);

 private:
  RateLimiter& limiter_;
  RateLimit per_address_;
  RateLimit global_;
};

// The contract's refusals for Redis-backed decisions: 429 with Retry-After, or 503.
Response limit_failure(const Result<LimitDecision>& decision);

}  // namespace chatalot
