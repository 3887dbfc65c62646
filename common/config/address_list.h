// FASTCGI_ALLOWED_ADDRESSES: the peers a TCP FastCGI listener serves, as libfcgi's
// FCGI_WEB_SERVER_ADDRS does. A FastCGI peer is trusted for REMOTE_ADDR, the address every rate
// limit is keyed on, so a handler listening on TCP for nginx on other hosts serves nginx's
// addresses only; a connection from any other address is closed at accept (http/server.cc).
//
// The list is exact addresses, IPv4 or IPv6, comma-separated; an empty list allows any peer.
// Peers on a unix socket are always allowed: the socket's mode and group say who may connect.
//
// Ownership: a plain value. parse() fails with kFailedPrecondition naming the first entry that
// is not an address. Thread-safety: const members may be called from any thread.
#pragma once

#include <sys/socket.h>

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace chatalot {

class AddressList {
 public:
  // "10.0.0.5, 2001:db8::5": numeric addresses, blanks around each ignored; "" or blanks: any.
  // Neither a network ("10.0.0.0/24"), a host name nor an empty entry is accepted.
  static Result<AddressList> parse(std::string_view text);

  bool allows_any() const { return addresses_.empty(); }

  // Whether a connection from `peer` may be served: a unix peer always; any address when the
  // list is empty; otherwise an exact match, an IPv4-mapped IPv6 peer (::ffff:a.b.c.d, from a
  // dual-stack listener) matching its IPv4 entry.
  bool allows(const sockaddr* peer, socklen_t length) const;

  // The canonical form, as parse() reads it back: "10.0.0.5,2001:db8::5"; "" for any.
  std::string to_string() const;

 private:
  using Address = std::array<unsigned char, 16>;  // IPv4 as its IPv4-mapped IPv6 form
  std::vector<Address> addresses_;
};

// A peer's address as text ("10.0.0.5", "2001:db8::5", "unix"), for log lines.
std::string peer_text(const sockaddr* peer, socklen_t length);

}  // namespace chatalot
