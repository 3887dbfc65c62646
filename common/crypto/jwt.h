// Access tokens: JWT signed with Ed25519 (alg "EdDSA"), SPEC section 3, and the TokenSigner and
// TokenVerifier ports over them. Thread-safe given a const Ed25519Key.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>

#include "core/ports.h"
#include "core/status.h"
#include "crypto/crypto.h"

namespace chatalot {

// header {"alg":"EdDSA","typ":"JWT"}, the claims as a JSON object, base64url without padding.
Result<std::string> sign_access_token(const Ed25519Key& key, const AccessClaims& claims);

// Verifies signature, alg, aud and exp (with leeway seconds) at time now, and a lifetime
// (exp - iat) of at most max_lifetime_seconds. Any failure is kUnauthenticated with
// Msg::kTokenInvalid or Msg::kTokenExpired. signature_known: these exact bytes passed the
// signature check under this key before (VerifiedTokens), so it is skipped; all else is not.
Result<AccessClaims> verify_access_token(const Ed25519Key& key, std::string_view token,
                                         std::int64_t now, std::int64_t leeway_seconds,
                                         std::int64_t max_lifetime_seconds,
                                         bool signature_known = false);

// The tokens whose signature was verified lately, at most `capacity` (the oldest forgotten
// first). A client sends one access token with every request of its 15 minutes, and the Ed25519
// check is most of what a bearer request costs (tests/bench/run: half the account handler's
// CPU): remembered here, it is made once per token and process. What is remembered, that these
// exact bytes carry a valid signature of this key, never stops being true; expiry, audience
// and lifetime are checked on every use, and the database is asked for the user every time.
// Thread-safe.
class VerifiedTokens {
 public:
  explicit VerifiedTokens(std::size_t capacity) : capacity_(capacity) {}
  bool contains(std::string_view token) const;
  void add(std::string_view token);

 private:
  std::size_t capacity_;
  mutable std::mutex mu_;
  std::unordered_set<std::string> set_;
  std::deque<std::string> order_;  // oldest first
};

// How many verified tokens a verifier remembers: about 0.5 MB of tokens.
inline constexpr std::size_t kVerifiedTokens = 1024;

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
      : key_(std::move(key)),
        lifetime_seconds_(lifetime_seconds),
        verified_(std::make_unique<VerifiedTokens>(kVerifiedTokens)) {}
  // The key from JWT_PUBLIC_KEY_PATH; kFailedPrecondition naming the variable otherwise.
  static Result<JwtVerifier> load(const std::string& public_key_path,
                                  std::int64_t lifetime_seconds);
  Result<AccessClaims> verify(std::string_view token, std::int64_t now) const override;

 private:
  Ed25519Key key_;
  std::int64_t lifetime_seconds_;
  std::unique_ptr<VerifiedTokens> verified_;  // a pointer: the verifier stays movable
};

}  // namespace chatalot
