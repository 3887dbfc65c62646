// The registration mode an operator sets (SPEC section 2), read by config/ and the domain.
#pragma once

#include <string_view>

namespace chatalot {

enum class RegistrationMode { kOpen, kInviteOnly, kClosed };

constexpr std::string_view to_string(RegistrationMode mode) {
  switch (mode) {
    case RegistrationMode::kOpen: return "open";
    case RegistrationMode::kInviteOnly: return "invite_only";
    case RegistrationMode::kClosed: return "closed";
  }
  return "invite_only";
}

}  // namespace chatalot
