#include "limits/gcra.h"

#include <openssl/evp.h>

#include <cmath>
#include <algorithm>

#include "core/log.h"
#include "core/text.h"

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

Status RedisLimiter::failed(const Status& s) {
  conn_.reset();  // reopened on the next call: Redis coming back needs no restart
  if (!fail_open_) return s;
  log_error("rate limit skipped (RATE_LIMIT_FAIL_OPEN): " + s.detail());
  return Status::ok();
}

Status RedisLimiter::connect() {
  if (conn_ && !conn_->still_open()) conn_.reset();
  if (conn_) return Status::ok();
  Result<RedisConnection> opened = RedisConnection::open(target_, timeout_ms_);
  if (!opened.is_ok()) return opened.status();
  conn_.emplace(std::move(opened).value());
  return Status::ok();
}

Result<long long> RedisLimiter::count(const std::string& key) {
  Status s = connect();
  Result<long long> n = s.is_ok() ? conn_->incr(key) : Result<long long>(s);
  if (!n.is_ok()) conn_.reset();
  return n;
}

Status RedisLimiter::apply(const std::string& key, const RateLimit& limit, LimitMode mode) {
  if (Status s = connect(); !s.is_ok()) return failed(s);
  const double interval_ms = 1000.0 / limit.per_second;
  Result<std::vector<long long>> reply = conn_->eval(
      kGcraScript, script_sha(), key,
      {std::to_string(interval_ms), std::to_string(limit.burst),
       mode == LimitMode::kRefund ? "-1" : "1", mode == LimitMode::kPeek ? "0" : "1"});
  if (!reply.is_ok()) return failed(reply.status());
  if (reply->size() != 2) return failed(unavailable("Redis: bad script reply"));
  if ((*reply)[0] == 1) return Status::ok();
  const auto seconds = static_cast<int>(std::max(1LL, ((*reply)[1] + 999) / 1000));
  return Status(Code::kResourceExhausted, Msg::kRateLimited).with_retry_after(seconds);
}

}  // namespace chatalot
