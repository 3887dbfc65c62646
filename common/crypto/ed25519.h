// Checks of client-supplied Ed25519 material (SPEC section 3, key fields), through OpenSSL.
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "core/ports.h"

namespace chatalot {

// Whether 32 bytes are the canonical encoding of a point on the Ed25519 curve (RFC 8032
// section 5.1.3 decoding succeeds: y < p, x^2 = (y^2-1)/(d y^2+1) has a root, and x = 0 is not
// paired with the sign bit set).
bool ed25519_point_is_valid(std::string_view public_key);

// Whether 32 bytes encode one of the eight points of small order (the identity among them).
// Such a point decodes, but a "signature" by it proves nothing: no real key is one of them.
bool ed25519_is_small_order(std::string_view public_key);

// Whether signature (64 bytes) is a valid Ed25519 signature of message by public_key (32 bytes).
// False for wrong sizes and invalid keys, never an error.
bool ed25519_verify(std::string_view public_key, std::string_view message,
                    std::string_view signature);

// The KeyChecks port over the functions above.
class OpenSslKeyChecks final : public KeyChecks {
 public:
  bool is_identity_key(std::string_view public_key) const override {
    return ed25519_point_is_valid(public_key) && !ed25519_is_small_order(public_key);
  }
  bool verify(std::string_view public_key, std::string_view message,
              std::string_view signature) const override {
    return ed25519_verify(public_key, message, signature);
  }
};

}  // namespace chatalot
