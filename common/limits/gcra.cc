#include "limits/gcra.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cmath>

#include "core/log.h"
#include "core/text.h"
#include "limits/cluster.h"

namespace chatalot {
namespace {

// KEYS[1]: the limit's key. ARGV: emission interval (ms per request), burst (requests), cost
// (1 take or peek, -1 refund), commit (1 to store, 0 to only look). Answers {allowed, wait_ms}.
// TIME makes the script non-deterministic: Redis 5+ replicates its effects, not the script.
constexpr const char* kGcraScript = R"lua(
if redis.replicate_commands then redis.replicate_commands() end
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tat = tonumber(redis.call('GET', KEYS[1]))
if not tat or tat < now then tat = now end
local new_tat = math.max(tat + cost * interval, now)
local allowance = burst * interval
if new_tat - now > allowance then
  return {0, math.ceil(new_tat - now - allowance)}
end
if ARGV[4] == '1' then
  if new_tat > now then
    redis.call('SET', KEYS[1], tostring(new_tat), 'PX', math.ceil(new_tat - now))
  else
    redis.call('DEL', KEYS[1])
  end
end
return {1, 0}
)lua";

const std::string& script_sha() {
  static const std::string sha = [] {
    unsigned char digest[20];
    unsigned int len = 0;
    EVP_Digest(kGcraScript, std::char_traits<char>::length(kGcraScript), digest, &len, EVP_sha1(),
               nullptr);
    return to_hex(std::string_view(reinterpret_cast<const char*>(digest), len));
  }();
  return sha;
}

}  // namespace

const char* gcra_script() { return kGcraScript; }

RedisLimiter::RedisLimiter(const RedisTarget& target, int timeout_ms, bool fail_open)
    : route_(target.cluster_seeds.empty()
                 ? std::unique_ptr<KeyRoute>(std::make_unique<SingleRoute>(target, timeout_ms))
                 : std::make_unique<ClusterRoute>(target, timeout_ms)),
      fail_open_(fail_open) {}

Status RedisLimiter::failed(const Status& s) {
  if (!fail_open_) return s;
  log_error("rate limit skipped (RATE_LIMIT_FAIL_OPEN): " + s.detail());
  return Status::ok();
}

Result<long long> RedisLimiter::count(const std::string& key) {
  Result<RedisReply> reply = route_->run({key, {"INCR", key}, {}});
  if (!reply.is_ok()) return reply.status();
  return integer(**reply);
}

KeyCommand RedisLimiter::command(const LimitCall& call) {
  const double interval_ms = 1000.0 / call.limit.per_second;
  return {call.key,
          {"EVALSHA", script_sha(), "1", call.key, std::to_string(interval_ms),
           std::to_string(call.limit.burst), call.mode == LimitMode::kRefund ? "-1" : "1",
           call.mode == LimitMode::kPeek ? "0" : "1"},
          kGcraScript};
}

Status RedisLimiter::apply(const std::string& key, const RateLimit& limit, LimitMode mode) {
  return answer(route_->run(command({key, limit, mode})));
}

std::vector<Status> RedisLimiter::apply_all(const std::vector<LimitCall>& calls) {
  std::vector<KeyCommand> commands;
  commands.reserve(calls.size());
  for (const LimitCall& c : calls) commands.push_back(command(c));
  std::vector<Status> out;
  for (const Result<RedisReply>& reply : route_->run_all(commands)) out.push_back(answer(reply));
  return out;
}

Status RedisLimiter::answer(const Result<RedisReply>& reply) {
  if (!reply.is_ok()) return failed(reply.status());
  Result<std::vector<long long>> values = integer_array(**reply);
  if (!values.is_ok()) return failed(values.status());
  if (values->size() != 2) return failed(unavailable("Redis: bad script reply"));
  if ((*values)[0] == 1) return Status::ok();
  const auto seconds = static_cast<int>(std::max(1LL, ((*values)[1] + 999) / 1000));
  return Status(Code::kResourceExhausted, Msg::kRateLimited).with_retry_after(seconds);
}

}  // namespace chatalot
