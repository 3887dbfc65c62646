// Access tokens: JWT signed with Ed25519 (alg "EdDSA"), SPEC section 3. Thread-safe given a
// const Ed25519Key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "crypto.h"
#include "status.h"

namespace chatalot {

inline constexpr std::int64_t kAccessTokenSeconds = 900;
inline constexpr std::string_view kAudience = "chatalot";

struct AccessClaims {
  std::string sub;       // user id (UUID text)
  std::string username;
  bool is_admin = false;
  bool is_owner = false;
  std::int64_t iat = 0;  // seconds since the epoch
  std::int64_t exp = 0;
  std::string jti;       // unique token id
  std::string aud = std::string(kAudience);
};

// header {"alg":"EdDSA","typ":"JWT"}, the claims as a JSON object, base64url without padding.
Result<std::string> sign_access_token(const Ed25519Key& key, const AccessClaims& claims);

// Verifies signature, alg, aud and exp (with leeway seconds) at time now. Any failure is
// kUnauthorized with a short message ("invalid token", "token expired").
Result<AccessClaims> verify_access_token(const Ed25519Key& key, std::string_view token,
                                         std::int64_t now, std::int64_t leeway_seconds);

}  // namespace chatalot
