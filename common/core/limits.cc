#include "core/limits.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>

#include "core/log.h"

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
  return std::string("ip4:") + text + (v4_bits == 32 ? "" : "/" + std::to_string(v4_bits));
}

}  // namespace

std::string client_key(std::string_view remote_addr) { return grouped_key(remote_addr, 32, 64); }

std::string network_key(std::string_view remote_addr) { return grouped_key(remote_addr, 24, 48); }

std::string registration_key(std::string_view remote_addr) {
  return "chatalot:rl:register:" + client_key(remote_addr);
}

Status InviteBudget::begin(std::string_view remote_addr) {
  if (Status mine = limiter_.apply(address_key(remote_addr), per_address_, LimitMode::kTake);
      !mine.is_ok()) {
    return mine;
  }
  if (Status network = limiter_.apply(network_budget_key(remote_addr), per_network_, LimitMode::kTake);
      !network.is_ok()) {
    // Not this attempt's doing alone: the address keeps its own budget.
    log_if_failed(limiter_.apply(address_key(remote_addr), per_address_, LimitMode::kRefund));
    return network;
  }
  return Status::ok();
}

void InviteBudget::finish(std::string_view remote_addr, bool valid) {
  if (valid) {
    log_if_failed(limiter_.apply(address_key(remote_addr), per_address_, LimitMode::kRefund));
    log_if_failed(limiter_.apply(network_budget_key(remote_addr), per_network_, LimitMode::kRefund));
    return;
  }
  Result<long long> total = limiter_.count(std::string(kInviteFailuresKey));
  log_info("event=invite_attempt_failed network=" + network_key(remote_addr) +
           " failures_total=" + (total.is_ok() ? std::to_string(*total) : std::string("?")));
  if (!total.is_ok()) log_if_failed(total.status());
}

}  // namespace chatalot
