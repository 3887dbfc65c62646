// The small interfaces the domain needs from the world below it: the clock, the random source,
// the password hasher, the token signer and verifier, the Ed25519 key checks and the rate
// limiter. The stores each capability needs are declared beside it (registration.h,
// invites.h). Real implementations live in crypto/, limits/ and store/; unit tests use fakes.
// Every implementation is used by one worker thread at a time unless it says otherwise.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>
#include <string_view>

#include "core/status.h"

namespace chatalot {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::int64_t now_seconds() const = 0;  // Unix time
};

class SystemClock final : public Clock {
 public:
  std::int64_t now_seconds() const override {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
};

class Random {
 public:
  virtual ~Random() = default;
  // n bytes from a CSPRNG; kUnavailable if it fails.
  virtual Result<std::string> bytes(std::size_t n) = 0;
};

class PasswordHasher {
 public:
  virtual ~PasswordHasher() = default;
  // A PHC string; kUnavailable when no hashing slot or no memory came free in time.
  virtual Result<std::string> hash(std::string_view password) = 0;
  // Whether password matches phc. With no phc (an unknown account) the same work is done
  // against a hash of the configured cost, and the answer is false: the time of an answer does
  // not tell whether the account exists. kUnavailable as hash().
  virtual Result<bool> verify(const std::optional<std::string>& phc, std::string_view password) = 0;
  // Whether phc was made with other parameters than the configured ones (rehash on login).
  virtual bool needs_rehash(std::string_view phc) const = 0;
};

// The contract's access-token lifetime: ACCESS_TOKEN_SECONDS' default (config_test keeps them
// equal). Signers and verifiers take the configured one.
inline constexpr std::int64_t kAccessTokenSeconds = 900;
inline constexpr std::int64_t kTokenLeewaySeconds = 60;
inline constexpr std::string_view kAudience = "chatalot";

// The claims of an access token (SPEC section 3).
struct AccessClaims {
  std::string sub;  // user id (UUID text)
  std::string username;
  bool is_admin = false;
  bool is_owner = false;
  std::int64_t iat = 0;  // seconds since the epoch
  std::int64_t exp = 0;
  std::string jti;  // unique token id
  std::string aud = std::string(kAudience);
  std::string sid;  // the session's id; "" for none (tokens issued before sessions existed)
};

class TokenSigner {
 public:
  virtual ~TokenSigner() = default;
  virtual Result<std::string> sign(const AccessClaims& claims) const = 0;
  // How long the tokens it signs live (ACCESS_TOKEN_SECONDS).
  virtual std::int64_t lifetime_seconds() const = 0;
};

class TokenVerifier {
 public:
  virtual ~TokenVerifier() = default;
  // Signature, alg, aud, expiry (kTokenLeewaySeconds) at time now and a lifetime no longer than
  // the configured one; kUnauthenticated with Msg::kTokenInvalid or Msg::kTokenExpired otherwise.
  virtual Result<AccessClaims> verify(std::string_view token, std::int64_t now) const = 0;
};

// Checks of client-supplied Ed25519 material.
class KeyChecks {
 public:
  virtual ~KeyChecks() = default;
  // A canonical encoding of a curve point that is not of small order.
  virtual bool is_identity_key(std::string_view public_key) const = 0;
  virtual bool verify(std::string_view public_key, std::string_view message,
                      std::string_view signature) const = 0;
};

// A GCRA limit: a sustained rate and the burst allowed on top of it.
struct RateLimit {
  double per_second;
  double burst;
};

enum class LimitMode {
  kTake,    // one more, if allowed
  kPeek,    // whether one more would be allowed, changing nothing
  kRefund,  // give one back (a take that turned out not to count)
};

// One limit to apply (Limiter::apply_all).
struct LimitCall {
  std::string key;
  RateLimit limit;
  LimitMode mode;
};

class Limiter {
 public:
  virtual ~Limiter() = default;
  // ok when allowed; kResourceExhausted (Msg::kRateLimited, with retry_after) when not;
  // kUnavailable when the state cannot be reached (unless the implementation fails open).
  virtual Status apply(const std::string& key, const RateLimit& limit, LimitMode mode) = 0;
  // Each call as apply() would answer it, in order; each is atomic on its own key, not together.
  // An implementation may send them together (one round trip to Redis); this one applies them
  // one after the other.
  virtual std::vector<Status> apply_all(const std::vector<LimitCall>& calls) {
    std::vector<Status> out;
    out.reserve(calls.size());
    for (const LimitCall& c : calls) out.push_back(apply(c.key, c.limit, c.mode));
    return out;
  }
  // Adds one to a plain counter kept beside the limits (a figure for alerting, never a gate)
  // and returns its new value.
  virtual Result<long long> count(const std::string& key) = 0;
};

}  // namespace chatalot
