// The baselines of tests/bench/run: minimal FastCGI handlers on our own server loop (serve())
// that do only the raw round trips of an endpoint, with libpq and hiredis directly: the same
// statements (from the statement registry, prepared once per connection as the handlers do in
// session mode), the same Redis script calls with the same arguments, and a constant answer.
// The ratio of an endpoint to its baseline is what our parsing, checks, domain and rendering
// cost on top of the work nobody can avoid.
//
//   BENCH_BASELINE=hello           GET: a constant body (our loop's ceiling; libfcgi_hello's twin)
//   BENCH_BASELINE=invite-valid    the invite check of a usable code: two GCRA takes (one
//                                  pipeline), the usable_invite lookup, two GCRA refunds (one)
//   BENCH_BASELINE=invite-invalid  an unknown code: two GCRA takes (one pipeline), the lookup,
//                                  one INCR
//   BENCH_BASELINE=refresh         BEGIN, lock_refresh_token, rotate_refresh_token, COMMIT
//   BENCH_BASELINE=me              user_by_id of BENCH_USER_ID
// Keys live under chatalot:bench: so that they never touch the handlers' budgets.
#include <hiredis/hiredis.h>
#include <libpq-fe.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/codes.h"
#include "core/limits.h"
#include "crypto/crypto.h"
#include "http/server.h"
#include "limits/gcra.h"
#include "limits/redis.h"
#include "store/statements.h"

namespace chatalot {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// The string value of "field":"..." in a flat JSON body (the benchmark's own bodies only).
std::string json_string(std::string_view body, std::string_view field) {
  std::string needle = "\"";
  needle.append(field).append("\":\"");
  const std::size_t at = body.find(needle);
  if (at == std::string_view::npos) return "";
  const std::size_t start = at + needle.size();
  const std::size_t end = body.find('"', start);
  return end == std::string_view::npos ? "" : std::string(body.substr(start, end - start));
}

Response answer(int status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

struct PgFree {
  void operator()(PGconn* c) const { PQfinish(c); }
};
struct PgResultFree {
  void operator()(PGresult* r) const { PQclear(r); }
};
struct RedisFree {
  void operator()(redisContext* c) const { redisFree(c); }
};
using Rows = std::unique_ptr<PGresult, PgResultFree>;

class RoundTrips final : public Worker {
 public:
  RoundTrips(std::string mode, const Config& config) : mode_(std::move(mode)), config_(config) {
    db_.reset(PQconnectdb(config.database_url.c_str()));
    if (PQstatus(db_.get()) != CONNECTION_OK) std::fprintf(stderr, "%s", PQerrorMessage(db_.get()));
    const std::string timeout = std::to_string(config.db_statement_timeout_ms) + "ms";
    const char* values[] = {timeout.c_str()};
    Rows(PQexecParams(db_.get(), statement(Sql::kSetStatementTimeout).text.c_str(), 1, nullptr,
                      values, nullptr, nullptr, 0));
    for (std::size_t i = 0; i < static_cast<std::size_t>(Sql::kCount); ++i) {
      const Statement& s = statement(static_cast<Sql>(i));
      std::vector<Oid> types;
      for (PgType t : s.params) types.push_back(static_cast<Oid>(t));
      Rows(PQprepare(db_.get(), s.name, s.text.c_str(), static_cast<int>(types.size()),
                     types.data()));
    }
    Result<RedisTarget> target = parse_redis_url(config.redis_url);
    if (target.is_ok() && !target->unix_path.empty()) {
      redis_.reset(redisConnectUnix(target->unix_path.c_str()));
    } else if (target.is_ok()) {
      redis_.reset(redisConnect(target->host.c_str(), target->port));
    }
    if (redis_ != nullptr) redis({"SCRIPT", "LOAD", gcra_script()}, &gcra_sha_);
  }

  Response handle(const Request& request) override {
    if (mode_ == "me") return me();
    if (mode_ == "refresh") return refresh(request);
    return invite(request);
  }

 private:
  // Queues a command (sent with the next read of a reply).
  void append(const std::vector<std::string>& args) {
    std::vector<const char*> argv;
    std::vector<std::size_t> lengths;
    for (const std::string& a : args) {
      argv.push_back(a.data());
      lengths.push_back(a.size());
    }
    redisAppendCommandArgv(redis_.get(), static_cast<int>(argv.size()), argv.data(), lengths.data());
  }

  // Reads the replies of `count` queued commands: whether none failed; the string answer of the
  // last into *text when given.
  bool replies(int count, std::string* text = nullptr) {
    bool ok = true;
    for (int i = 0; i < count; ++i) {
      void* raw = nullptr;
      const bool got = redisGetReply(redis_.get(), &raw) == REDIS_OK && raw != nullptr;
      const auto* reply = static_cast<redisReply*>(raw);
      ok = ok && got && reply->type != REDIS_REPLY_ERROR;
      if (got && text != nullptr && reply->type == REDIS_REPLY_STRING) text->assign(reply->str, reply->len);
      freeReplyObject(raw);
    }
    return ok;
  }

  bool redis(const std::vector<std::string>& args, std::string* text = nullptr) {
    append(args);
    return replies(1, text);
  }

  // The GCRA script on both keys in one round trip (a pipeline), as the limiter sends them.
  bool gcra_pair(const std::string& key1, const RateLimit& limit1, const std::string& key2,
                 const RateLimit& limit2, bool refund) {
    for (const auto& [key, limit] : {std::pair{&key1, &limit1}, std::pair{&key2, &limit2}}) {
      append({"EVALSHA", gcra_sha_, "1", *key, std::to_string(1000.0 / limit->per_second),
              std::to_string(limit->burst), refund ? "-1" : "1", "1"});
    }
    return replies(2);
  }

  Rows exec(Sql id, const std::vector<std::string>& params) {
    std::vector<const char*> values;
    for (const std::string& p : params) values.push_back(p.c_str());
    return Rows(PQexecPrepared(db_.get(), statement(id).name, static_cast<int>(values.size()),
                               values.data(), nullptr, nullptr, 0));
  }

  Response invite(const Request& request) {
    const std::string address = "chatalot:bench:invite:" + client_key(request.remote_addr);
    const std::string network = "chatalot:bench:invite-net:" + network_key(request.remote_addr);
    if (!gcra_pair(address, config_.invite_limit, network, config_.invite_network_limit, false)) {
      return answer(503, "{}");
    }
    const std::string code = normalize_invite_code(json_string(request.body, "invite_code"));
    Rows found = exec(Sql::kUsableInvite, {sha256_hex(code)});
    if (PQntuples(found.get()) == 1) {
      gcra_pair(address, config_.invite_limit, network, config_.invite_network_limit, true);
      return answer(200, R"({"valid":true,"expires_at":null,"uses_remaining":1000000})");
    }
    redis({"INCR", "chatalot:bench:invite-failures"});
    return answer(400, R"({"error":{"code":"validation_error","message":"invalid invite code"}})");
  }

  Response refresh(const Request& request) {
    const std::string token = json_string(request.body, "refresh_token");
    exec(Sql::kBegin, {});
    Rows row = exec(Sql::kLockRefreshToken, {sha256_hex(token), "10"});
    if (PQntuples(row.get()) != 1) {
      exec(Sql::kRollback, {});
      return answer(401, R"({"error":{"code":"unauthorized","message":"invalid refresh token"}})");
    }
    const std::string next = sha256_hex(token + std::to_string(++counter_));
    exec(Sql::kRotateRefreshToken, {PQgetvalue(row.get(), 0, 0), PQgetvalue(row.get(), 0, 1),
                                    PQgetvalue(row.get(), 0, 5), next, "30"});
    exec(Sql::kCommit, {});
    return answer(200, R"({"access_token":"-","refresh_token":")" + next + "\"}");
  }

  Response me() {
    const std::string user = env("BENCH_USER_ID");
    Rows row = exec(Sql::kUserById, {user});
    return answer(PQntuples(row.get()) == 1 ? 200 : 404, R"({"id":")" + user + "\"}");
  }

  std::string mode_;
  const Config& config_;
  std::unique_ptr<PGconn, PgFree> db_;
  std::unique_ptr<redisContext, RedisFree> redis_;
  std::string gcra_sha_;
  unsigned long counter_ = 0;
};

}  // namespace
}  // namespace chatalot

int main(int argc, char** argv) {
  using namespace chatalot;
  const std::string mode = env("BENCH_BASELINE");
  if (mode == "hello") {
    return run_main(argc, argv, "bench-baseline", kNeedNothing, [](const Config&) -> Result<Endpoint> {
      Endpoint endpoint;
      endpoint.rules = {{"GET", "HEAD"}, false};
      endpoint.new_worker = [] {
        return std::make_unique<FunctionWorker>([](const Request&) {
          return answer(200, R"({"registration_mode":"open","e2e_enabled":true})");
        });
      };
      return endpoint;
    });
  }
  if (mode != "invite-valid" && mode != "invite-invalid" && mode != "refresh" && mode != "me") {
    std::fprintf(stderr, "BENCH_BASELINE must be hello, invite-valid, invite-invalid, refresh or me\n");
    return 2;
  }
  return run_main(argc, argv, "bench-baseline", kNeedDatabase | kNeedRedis,
                  [mode](const Config& config) -> Result<Endpoint> {
                    auto shared = std::make_shared<Config>(config);
                    Endpoint endpoint;
                    endpoint.rules = {{mode == "me" ? "GET" : "POST"}, mode != "me"};
                    endpoint.new_worker = [mode, shared] {
                      return std::make_unique<RoundTrips>(mode, *shared);
                    };
                    return endpoint;
                  });
}
