// Access tokens: JWT signed with Ed25519 (alg "EdDSA"), SPEC section 3, and the TokenSigner and
// TokenVerifier ports over them. Thread-safe given a const Ed25519Key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/ports.h"
#include "core/status.h"
#include "crypto/crypto.h"

namespace chatalot {

// header {"alg":"EdDSA","typ":"JWT"}, the claims as a JSON object, base64url without padding.
Result<std::string> sign_access_token(const Ed25519Key& key, const AccessClaims& claims);

// Verifies signature, alg, aud and exp (with leeway seconds) at time now, and a lifetime
// (exp - iat) of at most max_lifetime_seconds. Any failure is kUnauthenticated with
// Msg::kTokenInvalid or Msg::kTokenExpired.
Result<AccessClaims> verify_access_token(const Ed25519Key& key, std::string_view token,
                                         std::int64_t now, std::int64_t leeway_seconds,
                                         std::int64_t max_lifetime_seconds);

// lifetime_seconds: ACCESS_TOKEN_SECONDS, for the tokens it signs or the longest it accepts.
class JwtSigner final : public TokenSigner {
 public:
  JwtSigner(Ed25519Key key, std::int64_t lifetime_seconds)
      : key_(std::move(key)), lifetime_seconds_(lifetime_seconds) {}
  // The key from JWT_PRIVATE_KEY_PATH; kFailedPrecondition naming the variable otherwise.
  static Result<JwtSigner> load(const std::string& private_key_path, std::int64_t lifetime_seconds);
  Result<std::string> sign(const AccessClaims& claims) const override {
    return sign_access_token(key_, claims);
  }
  std::int64_t lifetime_seconds() const override { return lifetime_seconds_; }

 private:
  Ed25519Key key_;
  std::int64_t lifetime_seconds_;
};

class JwtVerifier final : public TokenVerifier {
 public:
  JwtVerifier(Ed25519Key key, std::int64_t lifetime_seconds)
      : key_(std::move(key)), lifetime_seconds_(lifetime_seconds) {}
  // The key from JWT_PUBLIC_KEY_PATH; kFailedPrecondition naming the variable otherwise.
  static Result<JwtVerifier> load(const std::string& public_key_path,
                                  std::int64_t lifetime_seconds);
  Result<AccessClaims> verify(std::string_view token, std::int64_t now) const override {
    return verify_access_token(key_, token, now, kTokenLeewaySeconds, lifetime_seconds_);
  }

 private:
  Ed25519Key key_;
  std::int64_t lifetime_seconds_;
};

}  // namespace chatalot
