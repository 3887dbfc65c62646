#include "limits/redis.h"

#include <hiredis/hiredis.h>
#include <poll.h>

#include <algorithm>

#include "core/text.h"

namespace chatalot {
namespace {

Status redis_failure(const std::string& what) { return unavailable("Redis: " + what); }

timeval to_timeval(int ms) { return {ms / 1000, (ms % 1000) * 1000}; }

RedisReply send(redisContext* c, const std::vector<std::string>& argv) {
  std::vector<const char*> ptrs;
  std::vector<std::size_t> lens;
  for (const std::string& a : argv) {
    ptrs.push_back(a.data());
    lens.push_back(a.size());
  }
  return RedisReply(static_cast<redisReply*>(
      redisCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data())));
}

bool parse_int(std::string_view text, int* out) {
  const std::optional<int> n = parse_integer<int>(text);
  if (n) *out = *n;
  return n.has_value();
}

// host[:port] or [IPv6][:port]; the port, when given, 1-65535.
bool parse_host_port(std::string_view text, RedisNode* node) {
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    const std::size_t close = text.find(']');
    if (close == std::string_view::npos) return false;
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return false;
      port = text.substr(close + 2);
    }
    text = text.substr(1, close - 1);
  } else if (const std::size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    port = text.substr(colon + 1);
    text = text.substr(0, colon);
  }
  if (!port.empty() && (!parse_int(port, &node->port) || node->port < 1 || node->port > 65535)) {
    return false;
  }
  if (text.empty()) return false;
  node->host = std::string(text);
  return true;
}

// [[user]:password@]: the credentials, taken off the front of rest.
void take_user_info(std::string& rest, RedisTarget* t) {
  const std::size_t at = rest.rfind('@');
  if (at == std::string::npos) return;
  const std::string userinfo = rest.substr(0, at);
  const std::size_t colon = userinfo.find(':');
  t->user = userinfo.substr(0, colon);
  if (colon != std::string::npos) t->password = userinfo.substr(colon + 1);
  rest = rest.substr(at + 1);
}

}  // namespace

Result<RedisTarget> parse_redis_url(const std::string& url) {
  RedisTarget t;
  const Status bad(
      Code::kFailedPrecondition,
      "REDIS_URL is not redis://host:port[/db], redis+cluster://host:port[,host:port...]"
      " or unix:///path");
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
  if (url.rfind("redis+cluster://", 0) == 0) {
    std::string rest = url.substr(16);
    take_user_info(rest, &t);
    for (std::size_t start = 0; start <= rest.size();) {
      const std::size_t comma = std::min(rest.find(',', start), rest.size());
      RedisNode seed;
      if (!parse_host_port(std::string_view(rest).substr(start, comma - start), &seed) ||
          seed.host.find('/') != std::string::npos) {
        return bad;
      }
      t.cluster_seeds.push_back(std::move(seed));
      start = comma + 1;
    }
    return t;
  }
  if (url.rfind("redis://", 0) != 0) return bad;
  std::string rest = url.substr(8);
  take_user_info(rest, &t);
  if (const std::size_t slash = rest.find('/'); slash != std::string::npos) {
    if (slash + 1 < rest.size() && !parse_int(rest.substr(slash + 1), &t.db)) return bad;
    rest = rest.substr(0, slash);
  }
  RedisNode node;
  if (!parse_host_port(rest, &node)) return bad;
  t.host = std::move(node.host);
  t.port = node.port;
  return t;
}

void RedisReplyFree::operator()(redisReply* r) const { freeReplyObject(r); }

std::string_view error_text(const redisReply& reply) {
  if (reply.type != REDIS_REPLY_ERROR) return {};
  return {reply.str, reply.len};
}

Result<std::vector<long long>> integer_array(const redisReply& reply) {
  if (reply.type == REDIS_REPLY_ERROR) return redis_failure(std::string(error_text(reply)));
  if (reply.type != REDIS_REPLY_ARRAY) return redis_failure("unexpected script reply");
  std::vector<long long> out;
  for (std::size_t i = 0; i < reply.elements; ++i) {
    if (reply.element[i]->type != REDIS_REPLY_INTEGER) {
      return redis_failure("unexpected script reply");
    }
    out.push_back(reply.element[i]->integer);
  }
  return out;
}

Result<long long> integer(const redisReply& reply) {
  if (reply.type == REDIS_REPLY_ERROR) return redis_failure(std::string(error_text(reply)));
  if (reply.type != REDIS_REPLY_INTEGER) return redis_failure("unexpected integer reply");
  return reply.integer;
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
    const RedisReply r = send(raw, argv);
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

Result<RedisReply> RedisConnection::call(const std::vector<std::string>& argv) {
  RedisReply r = send(ctx_.get(), argv);
  if (r == nullptr) return redis_failure(ctx_->errstr);
  return r;
}

Result<RedisReply> RedisConnection::run(const KeyCommand& command, bool asking) {
  // ASKING holds for the one command after it, so it goes again before a reloading EVAL.
  const auto sent = [&](const std::vector<std::string>& argv) -> Result<RedisReply> {
    if (asking) {
      Result<RedisReply> a = call({"ASKING"});
      if (!a.is_ok() || !error_text(**a).empty()) return a;
    }
    return call(argv);
  };
  Result<RedisReply> r = sent(command.argv);
  // Not loaded on this server yet (first use, restart, failover): EVAL loads and runs it.
  if (r.is_ok() && !command.script.empty() && error_text(**r).starts_with("NOSCRIPT")) {
    std::vector<std::string> argv = command.argv;
    argv[0] = "EVAL";
    argv[1] = command.script;
    r = sent(argv);
  }
  return r;
}

std::vector<Result<RedisReply>> RedisConnection::run_all(const std::vector<KeyCommand>& commands) {
  std::size_t appended = 0;
  for (const KeyCommand& c : commands) {
    std::vector<const char*> ptrs;
    std::vector<std::size_t> lens;
    for (const std::string& a : c.argv) {
      ptrs.push_back(a.data());
      lens.push_back(a.size());
    }
    if (redisAppendCommandArgv(ctx_.get(), static_cast<int>(c.argv.size()), ptrs.data(), lens.data()) != REDIS_OK) {
      break;
    }
    ++appended;
  }
  std::vector<Result<RedisReply>> out;
  out.reserve(commands.size());
  while (out.size() < commands.size()) {
    void* raw = nullptr;
    if (out.size() >= appended || ctx_->err != 0 || redisGetReply(ctx_.get(), &raw) != REDIS_OK) {
      out.emplace_back(redis_failure(ctx_->err != 0 ? ctx_->errstr : "command not sent"));
      continue;
    }
    out.emplace_back(RedisReply(static_cast<redisReply*>(raw)));
  }
  // Not loaded on this server yet (first use, restart, failover): run() loads it with EVAL, once
  // every reply of the pipeline has been read.
  for (std::size_t i = 0; i < commands.size(); ++i) {
    if (out[i].is_ok() && !commands[i].script.empty() && error_text(**out[i]).starts_with("NOSCRIPT")) {
      out[i] = run(commands[i]);
    }
  }
  return out;
}

Status SingleRoute::connect() {
  if (conn_ && !conn_->still_open()) conn_.reset();
  if (conn_) return Status::ok();
  Result<RedisConnection> opened = RedisConnection::open(target_, timeout_ms_);
  if (!opened.is_ok()) return opened.status();
  conn_.emplace(std::move(opened).value());
  return Status::ok();
}

Result<RedisReply> SingleRoute::run(const KeyCommand& command) {
  CHATALOT_RETURN_IF_ERROR(connect());
  Result<RedisReply> reply = conn_->run(command);
  if (!reply.is_ok()) conn_.reset();  // reopened on the next call
  return reply;
}

std::vector<Result<RedisReply>> SingleRoute::run_all(const std::vector<KeyCommand>& commands) {
  if (Status s = connect(); !s.is_ok()) {
    std::vector<Result<RedisReply>> failed;
    for (std::size_t i = 0; i < commands.size(); ++i) failed.emplace_back(s);
    return failed;
  }
  std::vector<Result<RedisReply>> replies = conn_->run_all(commands);
  for (const Result<RedisReply>& r : replies) {
    if (!r.is_ok()) conn_.reset();  // reopened on the next call
  }
  return replies;
}

}  // namespace chatalot
