// Rate limits kept in Redis, shared by every worker process on every host (SPEC section 5.5).
//
// GCRA (the generic cell rate algorithm): one key per limited thing holds its "theoretical
// arrival time"; one single-key Lua script reads and updates it atomically with the time taken
// from Redis itself (no clock skew between hosts), so it also works on Redis Cluster. A take
// can be undone (refund) or only tried (peek). Thread-safe: each thread has its own connection.
#pragma once

#include <string>
#include <string_view>

#include "config.h"
#include "http.h"
#include "redis.h"
#include "status.h"

namespace chatalot {

struct LimitDecision {
  bool allowed = true;
  int retry_after_seconds = 0;  // when !allowed: whole seconds until one more is allowed
};

// The limiter's identity for a client address: IPv4 as is, IPv6 by its /64 (one subscriber
// usually holds a whole /64), IPv4-mapped IPv6 as IPv4; anything else as given, bounded.
std::string client_key(std::string_view remote_addr);

class RateLimiter {
 public:
  RateLimiter(RedisTarget target, int timeout_ms, bool fail_open);

  enum class Mode { kTake, kPeek, kRefund };
  // kTake: one more, if allowed. kPeek: whether one more would be allowed, changing nothing.
  // kRefund: gives one back (a take that turned out not to count). kUnavailable when Redis
  // cannot answer, unless the limiter fails open (then: allowed, and logged).
  Result<LimitDecision> apply(const std::string& key, const RateLimit& limit, Mode mode);

  // 429 rate_limited with Retry-After, for a refused decision.
  static Response refusal(const LimitDecision& decision);

 private:
  RedisTarget target_;
  int timeout_ms_;
  bool fail_open_;
};

}  // namespace chatalot
