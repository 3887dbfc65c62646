// What a Chatalot client sends to register: fresh Ed25519 identity keys, a signed prekey and
// one-time prekeys, as JSON byte arrays.
#pragma once

#include <string>

namespace chatalot::testing {

struct Registrant {
  std::string username;
  std::string email;
  std::string password = "Str0ng!Passw0rd";
  std::string invite_code;      // omitted when empty
  int one_time_prekeys = 3;
  bool bad_signature = false;   // flips a bit of the signed prekey signature
};

std::string registration_body(const Registrant& r);

// "user<n>" / "user<n>@example.com" with a per-process random prefix.
Registrant registrant(const std::string& tag, const std::string& invite_code = "");

}  // namespace chatalot::testing
