// The rate-limit policy of the domain, over the Limiter port: which key each budget lives
// under, and the budget an invite attempt spends, shared by the invite check and registration
// so that guessing through either endpoint counts the same (SPEC section 3, invite check):
// per client address (IPv6 by /64) and per network (IPv4 /24, IPv6 /48, a larger budget), every
// attempt takes one and a valid code gives it back, so only failures count and concurrency
// cannot overshoot. There is no global budget: one would let anybody lock every valid invite out
// (SPEC guarantee 9), and codes carry 140 bits, so guessing from many networks gains nothing.
// The total of failures is counted (kInviteFailuresKey) and logged, for alerting.
// Not shared between threads (the Limiter is not).
#pragma once

#include <string>
#include <string_view>

#include "core/ports.h"

namespace chatalot {

// The limiter's identity for a client address: IPv4 as is, IPv6 by its /64 (one subscriber
// usually holds a whole /64), IPv4-mapped IPv6 as IPv4; anything else as given, bounded.
std::string client_key(std::string_view remote_addr);

// The network of a client address for the larger shared budget: IPv4 (and IPv4-mapped IPv6) by
// its /24, IPv6 by its /48; anything else as client_key().
std::string network_key(std::string_view remote_addr);

// The registration attempts of one client address.
std::string registration_key(std::string_view remote_addr);

// The counter of failed invite attempts from everywhere (Limiter::count).
inline constexpr std::string_view kInviteFailuresKey = "chatalot:stats:invite-failures";

class InviteBudget {
 public:
  InviteBudget(Limiter& limiter, RateLimit per_address, RateLimit per_network)
      : limiter_(limiter), per_address_(per_address), per_network_(per_network) {}

  // Before the code is looked up: ok, or the refusal to answer instead (429, or 503 when the
  // limiter cannot be reached).
  Status begin(std::string_view remote_addr);
  // After the lookup: a valid code (or a lookup that could not be made) gives the attempt
  // back to both budgets; a failure keeps it and is counted and logged. Limiter failures here
  // are logged only: the answer is already known.
  void finish(std::string_view remote_addr, bool valid);

 private:
  Limiter& limiter_;
  RateLimit per_address_;
  RateLimit per_network_;
};

}  // namespace chatalot
