// The Limiter port over Redis, shared by every worker process on every host (SPEC section 5.5).
//
// GCRA (the generic cell rate algorithm): one key per limited thing holds its "theoretical
// arrival time"; one single-key Lua script reads and updates it atomically with the time taken
// from Redis itself (no clock skew between hosts), so it also works on Redis Cluster. A take
// can be undone (refund) or only tried (peek).
//
// A RedisLimiter belongs to one worker thread: it owns that thread's Redis connection, opened
// on first use and replaced after a failure, so Redis coming back needs no restart.
#pragma once

#include <optional>
#include <string>

#include "core/ports.h"
#include "limits/redis.h"

namespace chatalot {

class RedisLimiter final : public Limiter {
 public:
  // fail_open: when Redis cannot answer, allow (and log) instead of kUnavailable.
  RedisLimiter(RedisTarget target, int timeout_ms, bool fail_open)
      : target_(std::move(target)), timeout_ms_(timeout_ms), fail_open_(fail_open) {}

  Status apply(const std::string& key, const RateLimit& limit, LimitMode mode) override;
  Result<long long> count(const std::string& key) override;

 private:
  Status failed(const Status& s);
  // This thread's connection, opened when there is none or the server closed it.
  Status connect();

  RedisTarget target_;
  int timeout_ms_;
  bool fail_open_;
  std::optional<RedisConnection> conn_;
};

}  // namespace chatalot
