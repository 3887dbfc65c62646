#include "limits/redis.h"

#include <hiredis/hiredis.h>
#include <poll.h>


#include "core/text.h"

namespace chatalot {
namespace {

struct FreeReply {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, FreeReply>;

Status redis_failure(const std::string& what) { return unavailable("Redis: " + what); }

timeval to_timeval(int ms) { return {ms / 1000, (ms % 1000) * 1000}; }

Reply command(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<std::size_t> lens;
  for (const std::string& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  return Reply(static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data())));
}

bool parse_int(std::string_view text, int* out) {
  const std::optional<int> n = parse_integer<int>(text);
  if (n) *out = *n;
  return n.has_value();
}

}  // namespace

Result<RedisTarget> parse_redis_url(const std::string& url) {
  RedisTarget t;
  const Status bad(Code::kFailedPrecondition, "REDIS_URL is not redis://host:port[/db] or unix:///path");
  if (url.rfind("unix://", 0) == 0) {
    std::string rest = url.substr(7);
    if (const std::size_t q = rest.find("?db="); q != std::string::npos) {
      if (!parse_int(rest.substr(q + 4), &t.db)) return bad;
      rest = rest.substr(0, q);
    }
    if (rest.empty() || rest[0] != '/') return bad;
    t.unix_path = rest;
    return t;
  }
  if (url.rfind("redis://", 0) != 0) return bad;
  std::string rest = url.substr(8);
  if (const std::size_t at = rest.rfind('@'); at != std::string::npos) {
    const std::string userinfo = rest.substr(0, at);
    const std::size_t colon = userinfo.find(':');
    t.user = userinfo.substr(0, colon);
    if (colon != std::string::npos) t.password = userinfo.substr(colon + 1);
    rest = rest.substr(at + 1);
  }
  if (const std::size_t slash = rest.find('/'); slash != std::string::npos) {
    if (slash + 1 < rest.size() && !parse_int(rest.substr(slash + 1), &t.db)) return bad;
    rest = rest.substr(0, slash);
  }
  std::string port;
  if (!rest.empty() && rest.front() == '[') {  // [IPv6]:port
    const std::size_t close = rest.find(']');
    if (close == std::string::npos) return bad;
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return bad;
      port = rest.substr(close + 2);
    }
    rest = rest.substr(1, close - 1);
  } else if (const std::size_t colon = rest.rfind(':'); colon != std::string::npos) {
    port = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  if (!port.empty() && !parse_int(port, &t.port)) return bad;
  if (rest.empty()) return bad;
  t.host = rest;
  return t;
}

void RedisConnection::Free::operator()(redisContext* c) const { redisFree(c); }

Result<RedisConnection> RedisConnection::open(const RedisTarget& target, int timeout_ms) {
  const timeval tv = to_timeval(timeout_ms);
  redisContext* raw = target.unix_path.empty()
                          ? redisConnectWithTimeout(target.host.c_str(), target.port, tv)
                          : redisConnectUnixWithTimeout(target.unix_path.c_str(), tv);
  if (raw == nullptr) return redis_failure("cannot allocate a connection");
  RedisConnection conn(raw);
  if (raw->err != 0) return redis_failure(std::string("cannot connect: ") + raw->errstr);
  if (redisSetTimeout(raw, tv) != REDIS_OK) return redis_failure("cannot set the timeout");
  const auto ok = [&](const std::vector<std::string>& argv) -> Status {
    const Reply r = command(raw, argv);
    if (r == nullptr) return redis_failure(raw->errstr);
    if (r->type == REDIS_REPLY_ERROR) return redis_failure(std::string(r->str, r->len));
    return Status::ok();
  };
  if (!target.password.empty()) {
    Status s = target.user.empty() ? ok({"AUTH", target.password})
                                   : ok({"AUTH", target.user, target.password});
    if (!s.is_ok()) return s;
  }
  if (target.db != 0) {
    if (Status s = ok({"SELECT", std::to_string(target.db)}); !s.is_ok()) return s;
  }
  return conn;
}

bool RedisConnection::still_open() const {
  pollfd pfd{ctx_->fd, POLLIN, 0};
  return ctx_->err == 0 && ::poll(&pfd, 1, 0) == 0;
}

Result<std::vector<long long>> RedisConnection::eval(const std::string& script,
                                                     const std::string& sha, const std::string& key,
                                                     const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"EVALSHA", sha, "1", key};
  argv.insert(argv.end(), args.begin(), args.end());
  Reply r = command(ctx_.get(), argv);
  // Not loaded on this server yet (first use, restart, failover): EVAL loads and runs it.
  if (r != nullptr && r->type == REDIS_REPLY_ERROR &&
      std::string_view(r->str, r->len).substr(0, 8) == "NOSCRIPT") {
    argv[0] = "EVAL";
    argv[1] = script;
    r = command(ctx_.get(), argv);
  }
  if (r == nullptr) return redis_failure(ctx_->errstr);
  if (r->type == REDIS_REPLY_ERROR) return redis_failure(std::string(r->str, r->len));
  if (r->type != REDIS_REPLY_ARRAY) return redis_failure("unexpected script reply");
  std::vector<long long> out;
  for (std::size_t i = 0; i < r->elements; ++i) {
    if (r->element[i]->type != REDIS_REPLY_INTEGER) return redis_failure("unexpected script reply");
    out.push_back(r->element[i]->integer);
  }
  return out;
}

Result<long long> RedisConnection::incr(const std::string& key) {
  const Reply r = command(ctx_.get(), {"INCR", key});
  if (r == nullptr) return redis_failure(ctx_->errstr);
  if (r->type != REDIS_REPLY_INTEGER) return redis_failure("unexpected INCR reply");
  return r->integer;
}

}  // namespace chatalot
