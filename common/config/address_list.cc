#include "config/address_list.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "core/text.h"

namespace chatalot {
namespace {

// ::ffff:a.b.c.d, the form an IPv4 address takes in the list and on a dual-stack socket.
constexpr unsigned char kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

std::array<unsigned char, 16> mapped(const in_addr& v4) {
  std::array<unsigned char, 16> out{};
  std::memcpy(out.data(), kMappedPrefix, sizeof kMappedPrefix);
  std::memcpy(out.data() + 12, &v4, 4);
  return out;
}

bool is_mapped(const std::array<unsigned char, 16>& a) {
  return std::memcmp(a.data(), kMappedPrefix, sizeof kMappedPrefix) == 0;
}

}  // namespace

Result<AddressList> AddressList::parse(std::string_view text) {
  AddressList list;
  if (trim_ascii(text).empty()) return list;
  for (std::size_t start = 0; start <= text.size();) {
    const std::size_t comma = std::min(text.find(',', start), text.size());
    const std::string entry(trim_ascii(text.substr(start, comma - start)));
    start = comma + 1;
    in_addr v4{};
    in6_addr v6{};
    Address address{};
    if (::inet_pton(AF_INET, entry.c_str(), &v4) == 1) {
      address = mapped(v4);
    } else if (::inet_pton(AF_INET6, entry.c_str(), &v6) == 1) {
      std::memcpy(address.data(), &v6, sizeof address);
    } else {
      std::string problem = entry.empty() ? std::string("has an empty entry")
                                          : "\"" + entry + "\" is not an IPv4 or IPv6 address";
      if (entry.find('/') != std::string::npos) problem += " (list addresses, not networks)";
      return Status(Code::kFailedPrecondition, problem);
    }
    if (std::find(list.addresses_.begin(), list.addresses_.end(), address) ==
        list.addresses_.end()) {
      list.addresses_.push_back(address);
    }
  }
  return list;
}

bool AddressList::allows(const sockaddr* peer, socklen_t length) const {
  if (peer == nullptr) return allows_any();
  if (peer->sa_family == AF_UNIX || allows_any()) return true;
  Address address{};
  if (peer->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    address = mapped(reinterpret_cast<const sockaddr_in*>(peer)->sin_addr);
  } else if (peer->sa_family == AF_INET6 &&
             length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    std::memcpy(address.data(), &reinterpret_cast<const sockaddr_in6*>(peer)->sin6_addr,
                sizeof address);
  } else {
    return false;
  }
  return std::find(addresses_.begin(), addresses_.end(), address) != addresses_.end();
}

std::string AddressList::to_string() const {
  std::string out;
  for (const Address& a : addresses_) {
    char text[INET6_ADDRSTRLEN] = {};
    if (is_mapped(a)) {
      ::inet_ntop(AF_INET, a.data() + 12, text, sizeof text);
    } else {
      ::inet_ntop(AF_INET6, a.data(), text, sizeof text);
    }
    if (!out.empty()) out += ',';
    out += text;
  }
  return out;
}

std::string peer_text(const sockaddr* peer, socklen_t length) {
  char text[INET6_ADDRSTRLEN] = {};
  if (peer == nullptr) return "unknown";
  if (peer->sa_family == AF_UNIX) return "unix";
  if (peer->sa_family == AF_INET && length >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(peer)->sin_addr, text, sizeof text);
  } else if (peer->sa_family == AF_INET6 &&
             length >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(peer)->sin6_addr, text,
                sizeof text);
  } else {
    return "unknown";
  }
  return text;
}

}  // namespace chatalot
