// Redis over hiredis: a connection with short connect and command timeouts, owned by one
// thread, and a script runner that loads a Lua script once, calls it by SHA and reloads it on
// NOSCRIPT (after a Redis restart or failover). Commands go as argument vectors with explicit
// lengths. Errors are values: kUnavailable for anything Redis-side (unreachable, timeout,
// error reply); the connection is then dropped and reopened on the next call.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

struct redisContext;

namespace chatalot {

// redis://[[user]:password@]host[:port][/db] or unix:///path/to.sock[?db=N]
struct RedisTarget {
  std::string host;
  int port = 6379;
  std::string unix_path;
  std::string user;
  std::string password;
  int db = 0;
};
Result<RedisTarget> parse_redis_url(const std::string& url);

class RedisConnection {
 public:
  static Result<RedisConnection> open(const RedisTarget& target, int timeout_ms);

  // An idle connection has nothing to read unless the server closed it (a restart, say): checked
  // without blocking before reuse, so a stale connection is replaced rather than failing a request.
  bool still_open() const;

  // Runs the script with one key and the arguments; returns the integer array it answers.
  Result<std::vector<long long>> eval(const std::string& script, const std::string& sha,
                                      const std::string& key, const std::vector<std::string>& args);

  // INCR of one key; its new value.
  Result<long long> incr(const std::string& key);

 private:
  struct Free {
    void operator()(redisContext* c) const;
  };
  explicit RedisConnection(redisContext* c) : ctx_(c) {}
  std::unique_ptr<redisContext, Free> ctx_;
};

}  // namespace chatalot
