#include "rate_limit.h"

#include <arpa/inet.h>
#include <openssl/evp.h>

#include <cmath>
#include <memory>
#include <unordered_map>

#include "crypto.h"
#include "log.h"

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

std::string client_key(std::string_view remote_addr) {
  const std::string addr(remote_addr.substr(0, 64));
  in_addr v4{};
  if (inet_pton(AF_INET, addr.c_str(), &v4) == 1) return "ip4:" + addr;
  in6_addr v6{};
  if (inet_pton(AF_INET6, addr.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_V4MAPPED(&v6)) {
      char text[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, &v6.s6_addr[12], text, sizeof text);
      return std::string("ip4:") + text;
    }
    for (int i = 8; i < 16; ++i) v6.s6_addr[i] = 0;
    char text[INET6_ADDRSTRLEN];
    inet_ntop(AF_INET6, &v6, text, sizeof text);
    return std::string("ip6:") + text + "/64";
  }
  return "other:" + addr;
}

RateLimiter::RateLimiter(RedisTarget target, int timeout_ms, bool fail_open)
    : target_(std::move(target)), timeout_ms_(timeout_ms), fail_open_(fail_open) {}

Result<LimitDecision> RateLimiter::apply(const std::string& key, const RateLimit& limit,
                                         Mode mode) {
  thread_local std::unordered_map<const RateLimiter*, std::unique_ptr<RedisConnection>> connections;
  std::unique_ptr<RedisConnection>& conn = connections[this];
  const auto failed = [&](const Status& s) -> Result<LimitDecision> {
    conn.reset();  // reopened on the next call: Redis coming back needs no restart
    log_error(s.message());
    if (fail_open_) return LimitDecision{};
    return Status(ErrorCode::kUnavailable, "the service is temporarily unavailable");
  };
  if (conn != nullptr && !conn->still_open()) conn.reset();
  if (conn == nullptr) {
    Result<RedisConnection> opened = RedisConnection::open(target_, timeout_ms_);
    if (!opened.is_ok()) return failed(opened.status());
    conn = std::make_unique<RedisConnection>(std::move(opened).value());
  }
  const double interval_ms = 1000.0 / limit.per_second;
  Result<std::vector<long long>> reply = conn->eval(
      kGcraScript, script_sha(), key,
      {std::to_string(interval_ms), std::to_string(limit.burst), mode == Mode::kRefund ? "-1" : "1",
       mode == Mode::kPeek ? "0" : "1"});
  if (!reply.is_ok()) return failed(reply.status());
  if (reply->size() != 2) return failed(Status(ErrorCode::kUnavailable, "Redis: bad reply"));
  LimitDecision d;
  d.allowed = (*reply)[0] == 1;
  d.retry_after_seconds = static_cast<int>(std::max(1LL, ((*reply)[1] + 999) / 1000));
  return d;
}

Response RateLimiter::refusal(const LimitDecision& decision) {
  Response r = error_response(Status(ErrorCode::kRateLimited, "too many requests, try again later"));
  r.headers.emplace_back("Retry-After", std::to_string(decision.retry_after_seconds));
  return r;
}

}  // namespace chatalot
