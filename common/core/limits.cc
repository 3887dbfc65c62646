#include "core/limits.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <optional>

#include "core/log.h"
#include "core/text.h"
#include "core/validation.h"

namespace chatalot {
namespace {

std::string address_key(std::string_view remote_addr) {
  return "chatalot:rl:invite:" + client_key(remote_addr);
}

std::string network_budget_key(std::string_view remote_addr) {
  return "chatalot:rl:invite-net:" + network_key(remote_addr);
}

void log_if_failed(const Status& s) {
  if (!s.is_ok() && s.code() != Code::kResourceExhausted) log_error(s.detail());
}

// Keeps the first `bits` bits of an address, zeroes the rest.
void keep_prefix(unsigned char* bytes, std::size_t size, std::size_t bits) {
  for (std::size_t i = 0; i < size; ++i) {
    const std::size_t kept = bits > i * 8 ? std::min<std::size_t>(bits - i * 8, 8) : 0;
    bytes[i] = static_cast<unsigned char>(bytes[i] & (0xFF00U >> kept));
  }
}

// IPv4 (or IPv4-mapped IPv6) and IPv6 grouped by the given prefix lengths.
std::string grouped_key(std::string_view remote_addr, std::size_t v4_bits, std::size_t v6_bits) {
  const std::string addr(remote_addr.substr(0, 64));
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET6, addr.c_str(), &v6) == 1 && IN6_IS_ADDR_V4MAPPED(&v6)) {
    std::memcpy(&v4, &v6.s6_addr[12], sizeof v4);
  } else if (inet_pton(AF_INET, addr.c_str(), &v4) != 1) {
    if (inet_pton(AF_INET6, addr.c_str(), &v6) != 1) return "other:" + addr;
    keep_prefix(v6.s6_addr, sizeof v6.s6_addr, v6_bits);
    char text[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &v6, text, sizeof text);
    return std::string("ip6:") + text + "/" + std::to_string(v6_bits);
  }
  keep_prefix(reinterpret_cast<unsigned char*>(&v4), sizeof v4, v4_bits);
  char text[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &v4, text, sizeof text);
  std::string key = std::string("ip4:") + text;
  if (v4_bits != 32) key.append("/").append(std::to_string(v4_bits));
  return key;
}

}  // namespace

std::string client_key(std::string_view remote_addr) { return grouped_key(remote_addr, 32, 64); }

std::string network_key(std::string_view remote_addr) { return grouped_key(remote_addr, 24, 48); }

std::string registration_key(std::string_view remote_addr) {
  return "chatalot:rl:register:" + client_key(remote_addr);
}

std::vector<LimitCall> FailureBudgets::calls(LimitMode mode, const std::vector<bool>& which) const {
  std::vector<LimitCall> out;
  for (std::size_t i = 0; i < budgets_.size(); ++i) {
    if (which.empty() || which[i]) out.push_back({budgets_[i].key, budgets_[i].limit, mode});
  }
  return out;
}

// All budgets at once (one round trip): when one refuses, the takes that went through are
// given back, and the first refusal in the budgets' order is the answer.
Status FailureBudgets::begin() {
  const std::vector<Status> taken = limiter_.apply_all(calls(LimitMode::kTake));
  std::vector<bool> took(taken.size());
  std::optional<Status> refusal;
  for (std::size_t i = 0; i < taken.size(); ++i) {
    took[i] = taken[i].is_ok();
    if (!took[i] && !refusal) refusal = taken[i];
  }
  if (!refusal) return Status::ok();
  give_back(took);
  return *refusal;
}

void FailureBudgets::give_back(const std::vector<bool>& which) {
  const std::vector<LimitCall> refunds = calls(LimitMode::kRefund, which);
  if (refunds.empty()) return;
  for (const Status& s : limiter_.apply_all(refunds)) log_if_failed(s);
}

std::vector<Budget> account_budgets(std::string_view kind, std::string_view account,
                                    std::string_view remote_addr, const RateLimit& per_address,
                                    const RateLimit& per_account_address,
                                    const RateLimit& per_account) {
  // A name that is no valid username has no account: all such names share one budget, and
  // the key stays short and printable whatever the client sent.
  const std::string name = check_username(account).is_ok() ? ascii_lower(account) : "~invalid";
  const std::string prefix = "chatalot:rl:" + std::string(kind);
  const std::string client = client_key(remote_addr);
  return {{prefix + ":addr:" + client, per_address},
          {prefix + ":acct-addr:" + name + ":" + client, per_account_address},
          {prefix + ":acct:" + name, per_account}};
}

// The address's own budget first: a refusal by the network's gives it back (not this
// attempt's doing alone).
FailureBudgets InviteBudget::budgets(std::string_view remote_addr) const {
  return FailureBudgets(limiter_, {{address_key(remote_addr), per_address_},
                                   {network_budget_key(remote_addr), per_network_}});
}

Status InviteBudget::begin(std::string_view remote_addr) { return budgets(remote_addr).begin(); }

void InviteBudget::finish(std::string_view remote_addr, bool valid) {
  if (valid) {
    budgets(remote_addr).succeeded();
    return;
  }
  Result<long long> total = limiter_.count(std::string(kInviteFailuresKey));
  log_info("event=invite_attempt_failed network=" + network_key(remote_addr) +
           " failures_total=" + (total.is_ok() ? std::to_string(*total) : std::string("?")));
  if (!total.is_ok()) log_if_failed(total.status());
}

}  // namespace chatalot
