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
#include <vector>

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

// Budgets that only failures spend: begin() takes one from each (all in one Limiter::apply_all;
// when one refuses, those taken are given back and the first refusal in order is the answer),
// and succeeded() gives them all back, so an attempt that turns out right costs nothing and
// concurrency cannot overshoot.
// gave_back() is for an attempt that could not be made (a dependency away): it tried nothing.
// Limiter failures while giving back are logged only: the answer is already known.
struct Budget {
  std::string key;
  RateLimit limit;
};

class FailureBudgets {
 public:
  FailureBudgets(Limiter& limiter, std::vector<Budget> budgets)
      : limiter_(limiter), budgets_(std::move(budgets)) {}
  Status begin();
  void succeeded() { give_back({}); }
  void gave_back() { give_back({}); }

 private:
  // The calls of mode for the budgets which marks (all when which is empty).
  std::vector<LimitCall> calls(LimitMode mode, const std::vector<bool>& which = {}) const;
  void give_back(const std::vector<bool>& which);
  Limiter& limiter_;
  std::vector<Budget> budgets_;
};

// The failures of one kind of secret (a password, a recovery code) checked for one account:
// per client address, per (account, client address) and per account (SPEC section 3, login).
// account is the lower-cased username as given; names that cannot exist share one key.
std::vector<Budget> account_budgets(std::string_view kind, std::string_view account,
                                    std::string_view remote_addr, const RateLimit& per_address,
                                    const RateLimit& per_account_address,
                                    const RateLimit& per_account);

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
  FailureBudgets budgets(std::string_view remote_addr) const;
  Limiter& limiter_;
  RateLimit per_address_;
  RateLimit per_network_;
};

}  // namespace chatalot
