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

// Verifies signature, alg, aud and exp (with leeway seconds) at time now. Any failure is
// kUnauthenticated with Msg::kTokenInvalid or Msg::kTokenExpired.
Result<AccessClaims> verify_access_token(const Ed25519Key& key, std::string_view token,
                                         std::int64_t now, std::int64_t leeway_seconds);

class JwtSigner final : public TokenSigner {
 public:
  explicit JwtSigner(Ed25519Key key) : key_(std::move(key)) {}
  // The key from JWT_PRIVATE_KEY_PATH; kFailedPrecondition naming the variable otherwise.
  static Result<JwtSigner> load(const std::string& private_key_path);
  Result<std::string> sign(const AccessClaims& claims) const override {
    return sign_access_token(key_, claims);
  }

 private:
  Ed25519Key key_;
};

class JwtVerifier final : public TokenVerifier {
 public:
  explicit JwtVerifier(Ed25519Key key) : key_(std::move(key)) {}
  // The key from JWT_PUBLIC_KEY_PATH; kFailedPrecondition naming the variable otherwise.
  static Result<JwtVerifier> load(const std::string& public_key_path);
  Result<AccessClaims> verify(std::string_view token, std::int64_t now) const override {
    return verify_access_token(key_, token, now, kTokenLeewaySeconds);
  }

 private:
  Ed25519Key key_;
};

}  // namespace chatalot
