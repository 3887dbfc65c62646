// The Limiter port over Redis, shared by every worker process on every host (SPEC section 5.5).
//
// GCRA (the generic cell rate algorithm): one key per limited thing holds its "theoretical
// arrival time"; one single-key Lua script reads and updates it atomically with the time taken
// from Redis itself (no clock skew between hosts), so it also works on Redis Cluster. A take
// can be undone (refund) or only tried (peek).
//
// A RedisLimiter belongs to one worker thread: it owns that thread's route to Redis (one
// server, or the masters of a Redis Cluster, cluster.h) and its connections, opened on first use
// and replaced after a failure, so Redis coming back needs no restart.
#pragma once

#include <memory>
#include <string>

#include "core/ports.h"
#include "limits/redis.h"

namespace chatalot {

// The script's text (bench/ baselines load the same script).
const char* gcra_script();

class RedisLimiter final : public Limiter {
 public:
  // A cluster when target has cluster seeds. fail_open: when Redis cannot answer, allow (and
  // log) instead of kUnavailable.
  RedisLimiter(const RedisTarget& target, int timeout_ms, bool fail_open);

  Status apply(const std::string& key, const RateLimit& limit, LimitMode mode) override;
  // One round trip to a single server (a pipeline); on a cluster, one call after the other.
  std::vector<Status> apply_all(const std::vector<LimitCall>& calls) override;
  Result<long long> count(const std::string& key) override;

 private:
  static KeyCommand command(const LimitCall& call);
  // The script's reply as apply() answers it.
  Status answer(const Result<RedisReply>& reply);
  Status failed(const Status& s);

  std::unique_ptr<KeyRoute> route_;
  bool fail_open_;
};

}  // namespace chatalot
