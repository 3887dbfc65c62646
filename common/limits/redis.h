// Redis over hiredis: a connection with short connect and command timeouts, owned by one
// thread; commands on one key (a script called by SHA and reloaded on NOSCRIPT after a restart
// or failover, or a plain command); and the KeyRoute that says which server a key's command
// goes to: SingleRoute here (one server), ClusterRoute in cluster.h (a Redis Cluster). Commands
// go as argument vectors with explicit lengths. Errors are values: kUnavailable when Redis
// cannot answer (unreachable, timeout); a route then drops the connection and reopens it on its
// next call, so Redis coming back needs no restart. Nothing here is shared between threads.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

struct redisContext;
struct redisReply;

namespace chatalot {

// One server's TCP address.
struct RedisNode {
  std::string host;
  int port = 6379;
  bool operator==(const RedisNode&) const = default;
};

// redis://[[user]:password@]host[:port][/db], unix:///path/to.sock[?db=N], or
// redis+cluster://[[user]:password@]host[:port][,host[:port]...]: seed nodes of a Redis Cluster
// (any reachable one gives the slot map; a cluster has database 0 only).
struct RedisTarget {
  std::string host;
  int port = 6379;
  std::string unix_path;
  std::string user;
  std::string password;
  int db = 0;
  std::vector<RedisNode> cluster_seeds;  // not empty: a cluster (host, port and db unused)
};
Result<RedisTarget> parse_redis_url(const std::string& url);

struct RedisReplyFree {
  void operator()(redisReply* r) const;
};
// A reply of the server, owned.
using RedisReply = std::unique_ptr<redisReply, RedisReplyFree>;

// A command on one key: argv holds the key among its arguments; `key` says where it goes.
// For a script, argv is EVALSHA sha 1 key ARGV... and `script` its text, run by EVAL when the
// server answers NOSCRIPT.
struct KeyCommand {
  std::string key;
  std::vector<std::string> argv;
  std::string script;
};

// The text of an error reply ("MOVED 12 h:p", "NOSCRIPT ..."); empty for any other reply.
std::string_view error_text(const redisReply& reply);
// A script's array of integers, or INCR's integer; kUnavailable naming an error reply or any
// other shape.
Result<std::vector<long long>> integer_array(const redisReply& reply);
Result<long long> integer(const redisReply& reply);

class RedisConnection {
 public:
  // target's server (host and port, or unix_path), authenticated and on its database.
  static Result<RedisConnection> open(const RedisTarget& target, int timeout_ms);

  // An idle connection has nothing to read unless the server closed it (a restart, say): checked
  // without blocking before reuse, so a stale connection is replaced rather than failing a request.
  bool still_open() const;

  // One command. The server's error replies are replies, for the caller to read (MOVED, ASK,
  // CLUSTERDOWN); kUnavailable only when the connection failed, which then must be dropped.
  Result<RedisReply> call(const std::vector<std::string>& argv);

  // The command on one key, EVAL in place of an EVALSHA that met NOSCRIPT. asking: each send is
  // preceded by ASKING (a cluster slot this node is importing, after an ASK redirect).
  Result<RedisReply> run(const KeyCommand& command, bool asking = false);

  // The commands sent together and their replies read after (one round trip), each as run()
  // answers it. After a connection failure the rest are kUnavailable.
  std::vector<Result<RedisReply>> run_all(const std::vector<KeyCommand>& commands);

 private:
  struct Free {
    void operator()(redisContext* c) const;
  };
  explicit RedisConnection(redisContext* c) : ctx_(c) {}
  std::unique_ptr<redisContext, Free> ctx_;
};

// Where the command of a key goes, and over which connection. Owned by one thread.
class KeyRoute {
 public:
  virtual ~KeyRoute() = default;
  // The reply of the server that holds the key (an error reply included); kUnavailable when no
  // server can answer now.
  virtual Result<RedisReply> run(const KeyCommand& command) = 0;
  // Each command as run() answers it, in order; a route may send them together.
  virtual std::vector<Result<RedisReply>> run_all(const std::vector<KeyCommand>& commands) {
    std::vector<Result<RedisReply>> out;
    out.reserve(commands.size());
    for (const KeyCommand& c : commands) out.push_back(run(c));
    return out;
  }
};

// One Redis server, over one connection opened on first use and replaced after a failure.
class SingleRoute final : public KeyRoute {
 public:
  SingleRoute(RedisTarget target, int timeout_ms)
      : target_(std::move(target)), timeout_ms_(timeout_ms) {}
  Result<RedisReply> run(const KeyCommand& command) override;
  // One round trip for all of them (a pipeline).
  std::vector<Result<RedisReply>> run_all(const std::vector<KeyCommand>& commands) override;

 private:
  Status connect();
  RedisTarget target_;
  int timeout_ms_;
  std::optional<RedisConnection> conn_;
};

}  // namespace chatalot
