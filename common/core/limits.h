// The rate-limit policy of the domain, over the Limiter port: which key each budget lives
// under, and the budget an invite attempt spends, shared by the invite check and registration
// so that guessing through either endpoint counts the same (SPEC section 3, invite check):
// per client address (IPv6 by /64), every attempt takes one and a valid code gives it back, so
// only failures count and concurrency cannot overshoot; and one global budget of failures, for
// attacks spread over many addresses. Not shared between threads (the Limiter is not).
#pragma once

#include <string>
#include <string_view>

#include "core/ports.h"

namespace chatalot {

// The limiter's identity for a client address: IPv4 as is, IPv6 by its /64 (one subscriber
// usually holds a whole /64), IPv4-mapped IPv6 as IPv4; anything else as given, bounded.
std::string client_key(std::string_view remote_addr);

// The registration attempts of one client address.
std::string registration_key(std::string_view remote_addr);

class InviteBudget {
 public:
  InviteBudget(Limiter& limiter, RateLimit per_address, RateLimit global_failures)
      : limiter_(limiter), per_address_(per_address), global_(global_failures) {}

  // Before the code is looked up: ok, or the refusal to answer instead (429, or 503 when the
  // limiter cannot be reached).
  Status begin(std::string_view remote_addr);
  // After the lookup: a valid code (or a lookup that could not be made) gives the attempt
  // back, a failure counts globally. Limiter failures here are logged only: the answer is
  // already known.
  void finish(std::string_view remote_addr, bool valid);

 private:
  Limiter& limiter_;
  RateLimit per_address_;
  RateLimit global_;
};

}  // namespace chatalot
