#include "core/limits.h"

#include <arpa/inet.h>

#include "core/log.h"

namespace chatalot {
namespace {

const std::string kGlobalKey = "chatalot:rl:invite-failures";

std::string address_key(std::string_view remote_addr) {
  return "chatalot:rl:invite:" + client_key(remote_addr);
}

void log_if_failed(const Status& s) {
  if (!s.is_ok() && s.code() != Code::kResourceExhausted) log_error(s.detail());
}

}  // namespace

std::string client_key(std::string_view remote_addr) {
  const std::string addr(remote_addr.substr(0, 64));
  in_addr v4{};
  if (inet_pton(AF_INET, addr.c_str(), &v4) == 1) return "ip4:" + addr;
  in6_addr v6{};
  if (inet_pton(AF_INET6, addr.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_V4MAPPED(&v6)) {
      char text[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &v6.s6_addr[12], text, sizeof text);
      return std::string("ip4:") + text;
    }
    for (int i = 8; i < 16; ++i) v6.s6_addr[i] = 0;
    char text[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &v6, text, sizeof text);
    return std::string("ip6:") + text + "/64";
  }
  return "other:" + addr;
}

std::string registration_key(std::string_view remote_addr) {
  return "chatalot:rl:register:" + client_key(remote_addr);
}

Status InviteBudget::begin(std::string_view remote_addr) {
  if (Status mine = limiter_.apply(address_key(remote_addr), per_address_, LimitMode::kTake);
      !mine.is_ok()) {
    return mine;
  }
  if (Status all = limiter_.apply(kGlobalKey, global_, LimitMode::kPeek); !all.is_ok()) {
    finish(remote_addr, true);  // not this address's doing: give its attempt back
    return all;
  }
  return Status::ok();
}

void InviteBudget::finish(std::string_view remote_addr, bool valid) {
  log_if_failed(valid ? limiter_.apply(address_key(remote_addr), per_address_, LimitMode::kRefund)
                      : limiter_.apply(kGlobalKey, global_, LimitMode::kTake));
}

}  // namespace chatalot
