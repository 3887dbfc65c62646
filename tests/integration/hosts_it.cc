// Pools on several hosts (SPEC section 7), simulated with Linux network namespaces made by
// tests/integration/hosts.sh: nginx on one host, every handler on two worker hosts (TCP FastCGI,
// serving nginx's address only), PostgreSQL (through pgbouncer in transaction mode) and Redis on
// a database host. The test talks HTTP to that nginx from threads that enter its namespace, each
// client from a loopback address of its own (REMOTE_ADDR, what the limits are keyed on).
//
// What a user would notice: one owner among concurrent first registrations on both hosts; only
// nginx can reach a worker's FastCGI port; under a steady load of registrations with invites and
// invite checks, invite uses and rate limits stay exact across both hosts; when one worker
// host's link is cut, the only requests that fail are those it held at that moment, nginx sends
// the rest to the other host, and the host serves again once its link is back.
//
// Needs root and network namespaces: without them the suite fails, it never passes silently.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <set>
#include <thread>

#include "../fcgi_client.h"
#include "hosts.h"
#include "registration.h"

namespace chatalot::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr int kWorkerThreads = 4;
constexpr int kBurst = 25;  // registrations, and failed invite checks, per client address
constexpr int kMaxUses = 3;
constexpr int kAttemptsPerInvite = 5;
constexpr int kLoadThreads = 6;
// An address of the load makes 10 registrations and at most 20 failed invite attempts: < kBurst.
constexpr int kIterationsPerAddress = 10;
// What the load asks for, each its own upstream.
constexpr std::array<const char*, 4> kLoadPaths = {"/api/auth/config", "/api/auth/invites/redeem",
                                                   "/api/auth/register", "/api/admin/invites"};

Hosts* g_hosts = nullptr;
bool g_up = false;

// The handlers' environment: Argon2id at its default cost (a registration holds its worker for
// as long as in production, so a cut link finds requests in flight), few threads (2 cores for
// everything), and two budgets small enough to count: registrations and failed invite checks,
// kBurst per address and no refill during the run.
std::map<std::string, std::string> handler_env() {
  std::map<std::string, std::string> env = fast_unlimited_env();
  env.erase("ARGON2_MEMORY_KIB");
  env.erase("ARGON2_ITERATIONS");
  env["REGISTRATION_MODE"] = "invite_only";
  env["WORKER_THREADS"] = std::to_string(kWorkerThreads);
  env["RATE_LIMIT_REGISTER_PER_SECOND"] = "0.0001";
  env["RATE_LIMIT_REGISTER_BURST"] = std::to_string(kBurst);
  env["RATE_LIMIT_INVITE_PER_SECOND"] = "0.0001";
  env["RATE_LIMIT_INVITE_BURST"] = std::to_string(kBurst);
  return env;
}

class HostsEnvironment : public ::testing::Environment {
 public:
  void SetUp() override {
    g_hosts = new Hosts();
    const CommandResult r = g_hosts->up(handler_env());
    ASSERT_EQ(r.exit_code, 0) << "hosts.sh up failed (this suite needs root and network "
                                 "namespaces; it does not skip):\n"
                              << r.output;
    g_up = true;
  }
  void TearDown() override {
    const CommandResult r = g_hosts->down();
    EXPECT_EQ(r.exit_code, 0) << r.output;
    delete g_hosts;
  }
};
const auto* const kEnv = ::testing::AddGlobalTestEnvironment(new HostsEnvironment);

std::vector<Logged> access_log() { return read_access_log(g_hosts->file("logs/nginx-access.log")); }

// A new invite's code; `max_uses` 0: unlimited.
std::string create_invite_on_shell(int max_uses) {
  const CommandResult r = g_hosts->ctl(
      "invite create" + (max_uses > 0 ? " --max-uses " + std::to_string(max_uses) : ""));
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::smatch m;
  EXPECT_TRUE(std::regex_search(r.output, m, std::regex("(^|\n)([0-9A-Z]{4}(-[0-9A-Z]{4}){6})\n")))
      << r.output;
  return m.size() > 2 ? m[2].str() : "";
}

std::string g_owner_token;  // the first account's access token

// The owner's token: the first test's, or, when it did not run, the first account's, made here.
std::string owner_token() {
  if (g_owner_token.empty()) {
    const std::string code = create_invite_on_shell(1);
    const Call c = in_netns(g_hosts->ns("nginx"), [&] {
      return Client("127.40.1.1")
          .post(Kind::kRegister, "/api/auth/register",
                registration_body(registrant("owner", code)));
    });
    EXPECT_NE(c.body.find(R"("is_owner":true)"), std::string::npos) << c.body;
    g_owner_token = json_string(c.body, "access_token");
  }
  return g_owner_token;
}

// ---- The tests ---------------------------------------------------------------------------------

TEST(Hosts, ConcurrentFirstRegistrationsOnBothHostsMakeExactlyOneOwner) {
  ASSERT_TRUE(g_up);
  constexpr int kFirst = 12;
  const std::string code = create_invite_on_shell(kFirst);
  std::vector<Call> calls(kFirst);
  std::atomic<bool> go{false};
  std::vector<std::thread> threads;
  for (int i = 0; i < kFirst; ++i) {
    threads.emplace_back([&, i] {
      ASSERT_TRUE(enter_netns(g_hosts->ns("nginx")));
      Client client("127.40.0." + std::to_string(i + 1));
      const std::string body = registration_body(registrant("first" + std::to_string(i), code));
      while (!go.load()) std::this_thread::yield();
      calls[i] = client.post(Kind::kRegister, "/api/auth/register", body);
    });
  }
  go = true;
  for (std::thread& t : threads) t.join();
  int owners = 0;
  for (const Call& c : calls) {
    ASSERT_EQ(c.status, 200) << c.body;
    if (c.body.find(R"("is_owner":true)") != std::string::npos) {
      ++owners;
      g_owner_token = json_string(c.body, "access_token");
    }
  }
  EXPECT_EQ(owners, 1);
  EXPECT_EQ(g_hosts->query("SELECT count(*) FROM users WHERE is_owner"), "1");
  EXPECT_EQ(g_hosts->query("SELECT count(*) FROM users"), std::to_string(kFirst));
  EXPECT_EQ(g_hosts->query("SELECT count(*) FROM instance_owner"), "1");
  // Both hosts registered some of them.
  std::set<std::string> hosts;
  const std::map<std::string, Logged> log = by_request_id(access_log());
  for (const Call& c : calls) {
    const auto it = log.find(c.request_id);
    if (it != log.end() && !it->second.upstreams.empty()) hosts.insert(it->second.upstreams.back());
  }
  EXPECT_EQ(hosts, (std::set<std::string>{kW1, kW2}));
}

// FASTCGI_ALLOWED_ADDRESSES=10.77.0.10: nginx's namespace is served, the database host and the
// other worker host are reset at accept; the handler logs the refusal.
TEST(Hosts, OnlyNginxsAddressIsServedOnTheWorkersFastCgiPorts) {
  ASSERT_TRUE(g_up);
  const auto mode_query = [](const std::string& ns, const char* host) {
    const int fd = tcp_in(ns, host, kAuthConfigPort);
    if (fd < 0) return std::string("no connection");
    write_all(fd, whole_request({{"REQUEST_METHOD", "GET"},
                                 {"DOCUMENT_URI", "/api/auth/config"},
                                 {"REQUEST_ID", "hosts-it-probe"}}));
    bool ended = false;
    std::string out = read_response(fd, &ended, 3000);
    ::close(fd);
    return out;
  };
  for (const char* worker : {kW1, kW2}) {
    SCOPED_TRACE(worker);
    EXPECT_NE(mode_query(g_hosts->ns("nginx"), worker).find("Status: 200 OK"), std::string::npos);
    EXPECT_EQ(mode_query(g_hosts->ns("db"), worker), "") << "from the database host";
  }
  std::this_thread::sleep_for(milliseconds(1100));  // past the refusal log's one line a second
  EXPECT_EQ(mode_query(g_hosts->ns("w2"), kW1), "") << "from the other worker host";
  // The registration port likewise: a whole request from the database host gets no byte back.
  const int fd = tcp_in(g_hosts->ns("db"), kW1, kRegisterPort);
  ASSERT_GE(fd, 0) << "the kernel completes the handshake; the handler refuses at accept";
  write_all(fd,
            whole_request({{"REQUEST_METHOD", "POST"}, {"DOCUMENT_URI", "/api/auth/register"}}));
  EXPECT_TRUE(ends_within(fd, 3000));
  ::close(fd);
  for (const char* host : {"w1", "w2"}) {
    const std::string log =
        read_file(g_hosts->file("logs/" + std::string(host) + "/auth-config.log"));
    EXPECT_EQ(count_of(log, "request_id=hosts-it-probe"), 1U) << host << ": nginx's alone\n" << log;
  }
  const std::string log = read_file(g_hosts->file("logs/w1/auth-config.log"));
  for (const char* stranger : {kDbAddr, kW2}) {
    EXPECT_NE(log.find("refused a FastCGI connection from " + std::string(stranger) + ": not in"),
              std::string::npos)
        << log;
  }
}

// ---- The load -------------------------------------------------------------------------------

// Invites made through nginx by the owner, on demand: attempt c of the load uses invite
// c / kAttemptsPerInvite, so each invite of kMaxUses uses gets kAttemptsPerInvite attempts from
// several threads at about the same time.
class InviteSupply {
 public:
  struct Invite {
    std::string id;
    std::string code;
  };

  // Invite j, once made; nullopt once stopped.
  std::optional<Invite> get(int j) {
    std::unique_lock<std::mutex> lock(mutex_);
    wanted_ = std::max(wanted_, j + 10);
    changed_.notify_all();
    changed_.wait(lock, [&] { return stopped_ || static_cast<int>(invites_.size()) > j; });
    if (static_cast<int>(invites_.size()) > j) return invites_[static_cast<std::size_t>(j)];
    return std::nullopt;
  }

  // The admin's loop, in nginx's namespace: makes invites while some are wanted.
  void run(const std::string& token, std::vector<Call>& calls) {
    EXPECT_TRUE(enter_netns(g_hosts->ns("nginx")));
    Client admin("127.20.0.1");
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock,
                      [&] { return stopped_ || static_cast<int>(invites_.size()) < wanted_; });
        if (stopped_) return;
      }
      Call c = admin.post(Kind::kAdmin, "/api/admin/invites", R"({"max_uses":3})",
                          {{"Authorization", "Bearer " + token}});
      const Invite invite{json_string(c.body, "id"), json_string(c.body, "code")};
      calls.push_back(std::move(c));
      if (calls.back().status == 200 && !invite.code.empty()) {
        const std::lock_guard<std::mutex> lock(mutex_);
        invites_.push_back(invite);
        changed_.notify_all();
      }
    }
  }

  void stop() {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopped_ = true;
    changed_.notify_all();
  }
  std::vector<Invite> all() {
    const std::lock_guard<std::mutex> lock(mutex_);
    return invites_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Invite> invites_;
  int wanted_ = 0;
  bool stopped_ = false;
};

// One client of the load: the mode query, an invite check, a registration with that invite, over
// and over; a new address every kIterationsPerAddress rounds keeps it within its budgets.
void load_client(int t, InviteSupply& supply, std::atomic<int>& attempts,
                 const std::atomic<bool>& stop, std::vector<Call>& calls) {
  EXPECT_TRUE(enter_netns(g_hosts->ns("nginx")));
  std::unique_ptr<Client> client;
  for (int i = 0; !stop.load(); ++i) {
    if (i % kIterationsPerAddress == 0) {
      client = std::make_unique<Client>("127.10." + std::to_string(t) + "." +
                                        std::to_string(1 + i / kIterationsPerAddress));
    }
    calls.push_back(client->get(Kind::kConfig, "/api/auth/config"));
    const int invite = attempts.fetch_add(1) / kAttemptsPerInvite;
    const std::optional<InviteSupply::Invite> code = supply.get(invite);
    if (!code) return;
    calls.push_back(
        client->post(Kind::kCheck, "/api/auth/invites/redeem", invite_check_body(code->code)));
    calls.back().invite = invite;
    const std::string tag = "l" + std::to_string(t) + "_" + std::to_string(i);
    calls.push_back(client->post(Kind::kRegister, "/api/auth/register",
                                 registration_body(registrant(tag, code->code))));
    calls.back().invite = invite;
  }
}

// n requests from one address, `threads` at a time: one budget spent from both hosts at once.
std::vector<Call> burst(Kind kind, const std::string& source, int n, int threads) {
  std::vector<Call> calls(static_cast<std::size_t>(n));
  std::atomic<int> next{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      EXPECT_TRUE(enter_netns(g_hosts->ns("nginx")));
      Client client(source);
      for (int i; (i = next.fetch_add(1)) < n;) {
        calls[static_cast<std::size_t>(i)] =
            kind == Kind::kLimitRegister
                ? client.post(kind, "/api/auth/register",
                              registration_body(registrant("p" + std::to_string(i))))
                : client.post(kind, "/api/auth/invites/redeem",
                              invite_check_body("AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-" +
                                                std::to_string(1000 + i)));
      }
    });
  }
  for (std::thread& t : pool) t.join();
  return calls;
}

// Peaks of the PostgreSQL connections while the load runs: server connections (pg_stat_activity)
// and, behind pgbouncer, the handlers' client connections to it, per worker host.
struct ConnectionPeaks {
  std::map<std::string, int> clients;  // by worker host address
  int server = 0;                      // backends of the chatalot database
};

void sample_connections(const std::atomic<bool>& stop, ConnectionPeaks& peaks) {
  const bool pooled = pooler() == "pgbouncer";
  const std::string console =
      "host=" + g_hosts->file("db/pgbouncer") + " port=6432 dbname=pgbouncer user=postgres";
  while (!stop.load()) {
    const std::string server = g_hosts->query(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = 'chatalot'"
        " AND backend_type = 'client backend' AND pid <> pg_backend_pid()");
    peaks.server = std::max(peaks.server, server.empty() ? 0 : std::stoi(server));
    std::map<std::string, int> now;
    if (pooled) {
      for (const auto& row : g_hosts->rows("SHOW CLIENTS", console)) {
        // type, user, database, state, addr, ...
        if (row.size() > 4 && row[2] == "chatalot") ++now[row[4]];
      }
    } else {
      for (const auto& row :
           g_hosts->rows("SELECT host(client_addr), count(*) FROM pg_stat_activity WHERE datname ="
                         " 'chatalot' AND client_addr IS NOT NULL GROUP BY 1")) {
        now[row[0]] = std::stoi(row[1]);
      }
    }
    for (const auto& [host, n] : now) peaks.clients[host] = std::max(peaks.clients[host], n);
    std::this_thread::sleep_for(milliseconds(250));
  }
}

// The size of each of w2's handler logs that the load reaches, by path.
std::map<std::string, std::size_t> w2_log_sizes() {
  std::map<std::string, std::size_t> out;
  for (const char* h : {"auth-config", "register", "invite-redeem", "admin-invites"}) {
    const std::string path = g_hosts->file("logs/w2/" + std::string(h) + ".log");
    out[path] = read_file(path).size();
  }
  return out;
}

// The whole scenario, in the order a user would live it; every number is printed at the end.
TEST(Hosts, UnderLoadCountsAndLimitsStayExactAndACutHostCostsOnlyItsRequestsInFlight) {
  ASSERT_TRUE(g_up);
  const std::string token = owner_token();
  ASSERT_FALSE(token.empty());
  InviteSupply supply;
  std::atomic<int> attempts{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> stop_sampling{false};
  std::vector<Call> admin_calls;
  std::vector<std::vector<Call>> load_calls(kLoadThreads);
  ConnectionPeaks peaks;
  std::thread sampler(sample_connections, std::cref(stop_sampling), std::ref(peaks));
  std::thread admin([&] { supply.run(token, admin_calls); });
  std::vector<std::thread> clients;
  const Wall::time_point t0 = Wall::now();
  const std::pair<long long, long long> cpu_at_start = cpu_ticks();
  for (int t = 0; t < kLoadThreads; ++t) {
    clients.emplace_back(load_client, t, std::ref(supply), std::ref(attempts), std::cref(stop),
                         std::ref(load_calls[static_cast<std::size_t>(t)]));
  }

  // Two budgets spent from one address each, through both hosts at once, under the load.
  std::this_thread::sleep_for(seconds(2));
  auto register_burst =
      std::async(std::launch::async, burst, Kind::kLimitRegister, "127.30.0.1", 60, 12);
  auto check_burst = std::async(std::launch::async, burst, Kind::kLimitCheck, "127.31.0.1", 60, 12);
  const std::vector<Call> register_budget = register_burst.get();
  const std::vector<Call> check_budget = check_burst.get();

  // w2's link is cut while it serves; then mended, and nginx must use it again.
  std::this_thread::sleep_until(t0 + seconds(6));
  const std::pair<long long, long long> cpu_at_cut = cpu_ticks();
  const Wall::time_point cut_begin = Wall::now();
  const CommandResult cut = g_hosts->command("cut", "w2");
  const Wall::time_point cut_end = Wall::now();
  EXPECT_EQ(cut.exit_code, 0) << cut.output;
  std::this_thread::sleep_until(cut_end + kReadTimeout + seconds(3));
  const std::map<std::string, std::size_t> w2_logs_at_mend = w2_log_sizes();
  const Wall::time_point mend = Wall::now();
  const CommandResult mended = g_hosts->command("mend", "w2");
  EXPECT_EQ(mended.exit_code, 0) << mended.output;
  // Each endpoint's upstream takes w2 back on its own, at most fail_timeout after its last
  // failure there: seconds from the mend to w2's first answer, by path.
  std::map<std::string, double> rejoined;
  while (rejoined.size() < kLoadPaths.size() && Wall::now() < mend + kFailTimeout + seconds(15)) {
    std::this_thread::sleep_for(milliseconds(250));
    for (const Logged& l : access_log()) {
      if (l.end > at(mend) && l.last_on(kW2) && l.status < 500 && !rejoined.contains(l.uri)) {
        rejoined[l.uri] = l.end - at(mend);
      }
    }
  }
  std::this_thread::sleep_for(seconds(3));
  stop = true;
  supply.stop();
  for (std::thread& t : clients) t.join();
  admin.join();
  stop_sampling = true;
  sampler.join();
  const Wall::time_point t_end = Wall::now();

  std::vector<Call> all = admin_calls;
  for (const auto& v : load_calls) all.insert(all.end(), v.begin(), v.end());
  all.insert(all.end(), register_budget.begin(), register_budget.end());
  all.insert(all.end(), check_budget.begin(), check_budget.end());
  const std::vector<Logged> log = access_log();
  const std::map<std::string, Logged> logged = by_request_id(log);

  // 1. Every answer is one the contract allows; the only failures are nginx's own (502/504 as
  // its 503), and each was a request w2 held when its link went down.
  const std::string invite_refused = "invalid, expired, or fully used invite code";
  std::map<std::string, int> tally;
  std::vector<const Call*> failures;
  for (const Call& c : all) {
    tally[std::string(kind_name(c.kind)) + " " + std::to_string(c.status)]++;
    if (nginx_failure(c)) {
      failures.push_back(&c);
      continue;
    }
    EXPECT_NE(c.status, 500) << kind_name(c.kind) << ": " << c.body;
    switch (c.kind) {
      case Kind::kConfig:
      case Kind::kAdmin:
        EXPECT_EQ(c.status, 200) << kind_name(c.kind) << ": " << c.body;
        break;
      case Kind::kCheck:
      case Kind::kRegister:
        EXPECT_TRUE(c.status == 200 ||
                    (c.status == 400 && c.body.find(invite_refused) != std::string::npos))
            << kind_name(c.kind) << " " << c.status << ": " << c.body;
        break;
      case Kind::kLimitRegister:
      case Kind::kLimitCheck:
        EXPECT_TRUE(c.status == 400 || c.status == 429) << c.status << ": " << c.body;
        break;
    }
  }
  int in_flight_on_w2 = 0;
  for (const Logged& l : log) {
    in_flight_on_w2 += l.first_on(kW2) && l.start < at(cut_end) && l.end > at(cut_begin);
  }
  for (const Call* c : failures) {
    ASSERT_NE(c->status, -1) << kind_name(c->kind) << ": no answer from nginx at all";
    EXPECT_NE(c->kind, Kind::kConfig) << "a GET is retried on the other host";
    const auto it = logged.find(c->request_id);
    ASSERT_NE(it, logged.end()) << c->request_id;
    const Logged& l = it->second;
    EXPECT_TRUE(l.upstream_statuses.size() == 1 &&
                (l.upstream_statuses[0] == "504" || l.upstream_statuses[0] == "502"))
        << l.uri << ": " << c->body;
    EXPECT_TRUE(l.first_on(kW2) && l.upstreams.size() == 1) << l.uri << " went to " << l.route();
    EXPECT_LT(l.start, at(cut_end)) << l.uri << ": sent after the cut";
    EXPECT_GT(l.end, at(cut_begin)) << l.uri << ": answered before the cut";
  }
  EXPECT_LE(failures.size(), static_cast<std::size_t>(in_flight_on_w2));

  // 2. While w2 was away, nginx answered from w1: requests that tried w2 first were passed on.
  int served_during_cut = 0;
  int passed_on = 0;
  for (const Logged& l : log) {
    if (l.end < at(cut_end) + 1 || l.end > at(mend) || l.status >= 500) continue;
    ++served_during_cut;
    EXPECT_TRUE(l.last_on(kW1)) << l.uri << " answered from " << l.route();
    passed_on += l.first_on(kW2);
  }
  EXPECT_GT(served_during_cut, 20);

  // 3. w2 rejoined: nginx's log and w2's own.
  for (const char* path : kLoadPaths) {
    ASSERT_TRUE(rejoined.contains(path)) << path << ": w2 answered nothing after the mend";
    EXPECT_LT(rejoined[path], std::chrono::duration<double>(kFailTimeout + seconds(5)).count())
        << path;
  }
  std::size_t w2_answers_after = 0;
  for (const auto& [path, size] : w2_logs_at_mend) {
    w2_answers_after += count_of(read_file(path).substr(size), " status=");
  }
  EXPECT_GT(w2_answers_after, 0U) << "w2's handlers answer again";
  int served_by_w2_after = 0;
  for (const Logged& l : log)
    served_by_w2_after += l.end > at(mend) && l.last_on(kW2) && l.status < 500;

  // 4. Invites: each used exactly as many times as accounts were made with it, never more than
  // its max_uses; with no failed attempt, exactly min(attempts, max_uses) times.
  std::map<int, std::array<int, 3>> per_invite;  // attempts, successes, failures
  for (const auto& v : load_calls) {
    for (const Call& c : v) {
      if (c.kind != Kind::kRegister) continue;
      auto& t = per_invite[c.invite];
      ++t[0];
      t[1] += c.status == 200;
      t[2] += nginx_failure(c);
    }
  }
  std::map<std::string, std::pair<int, int>> stored;  // id -> used_count, accounts
  for (const auto& row : g_hosts->rows(
           "SELECT i.id, i.used_count, (SELECT count(*) FROM users u WHERE u.invite_id = i.id)"
           " FROM registration_invites i")) {
    stored[row[0]] = {std::stoi(row[1]), std::stoi(row[2])};
  }
  const std::vector<InviteSupply::Invite> invites = supply.all();
  int complete = 0;  // every attempt answered, none failed
  int exact = 0;     // of those, used exactly kMaxUses times
  int invites_with_a_failure = 0;
  for (const auto& [j, t] : per_invite) {
    SCOPED_TRACE("invite " + std::to_string(j));
    ASSERT_LT(static_cast<std::size_t>(j), invites.size());
    const auto [used, accounts] = stored.at(invites[static_cast<std::size_t>(j)].id);
    EXPECT_EQ(used, accounts);
    EXPECT_LE(used, kMaxUses);
    EXPECT_LE(t[0], kAttemptsPerInvite);
    EXPECT_LE(t[1], used);
    EXPECT_LE(used, t[1] + t[2]) << "only a lost answer may hide a use";
    if (t[2] == 0) {
      EXPECT_EQ(used, std::min(t[0], kMaxUses));
      complete += t[0] == kAttemptsPerInvite;
      exact += t[0] == kAttemptsPerInvite && used == kMaxUses;
    } else {
      ++invites_with_a_failure;
    }
  }
  EXPECT_EQ(g_hosts->query("SELECT count(*) FROM registration_invites WHERE used_count > max_uses"
                           " OR used_count <> (SELECT count(*) FROM users u WHERE u.invite_id ="
                           " registration_invites.id)"),
            "0");
  EXPECT_EQ(exact, complete);
  EXPECT_GT(complete, 20);

  // 5. One owner, whatever ran on which host.
  EXPECT_EQ(g_hosts->query("SELECT count(*) FROM users WHERE is_owner"), "1");

  // 6. The budgets, spent through both hosts at once: exactly kBurst each.
  for (const auto* budget : {&register_budget, &check_budget}) {
    int passed = 0;
    int limited = 0;
    std::set<std::string> hosts;
    for (const Call& c : *budget) {
      passed += c.status == 400;
      limited += c.status == 429;
      const auto it = logged.find(c.request_id);
      if (it != logged.end() && !it->second.upstreams.empty())
        hosts.insert(it->second.upstreams.back());
    }
    EXPECT_EQ(passed, kBurst) << kind_name(budget->front().kind);
    EXPECT_EQ(limited, 60 - kBurst) << kind_name(budget->front().kind);
    EXPECT_EQ(hosts, (std::set<std::string>{kW1, kW2})) << "both hosts spent the one budget";
  }
  for (const auto& v : load_calls) {
    for (const Call& c : v) EXPECT_NE(c.status, 429) << "the load stays within its budgets";
  }

  // 7. PostgreSQL connections: at most WORKER_THREADS per handler process that uses it.
  const int per_host_bound = 10 * kWorkerThreads;
  for (const auto& [host, n] : peaks.clients) EXPECT_LE(n, per_host_bound) << host;

  // The numbers, for the README.
  std::vector<double> check_ms;
  int registered_before_cut = 0;
  for (const auto& v : load_calls) {
    for (const Call& c : v) {
      if (c.end > cut_begin) continue;
      if (c.kind == Kind::kCheck && c.status == 200) {
        check_ms.push_back(std::chrono::duration<double, std::milli>(c.end - c.start).count());
      }
      registered_before_cut += c.kind == Kind::kRegister && c.status == 200;
    }
  }
  std::printf("[hosts_it] pooler=%s WORKER_THREADS=%d, load %d clients for %.1f s\n",
              pooler().c_str(), kWorkerThreads, kLoadThreads, at(t_end) - at(t0));
  for (const auto& [what, n] : tally) std::printf("[hosts_it]   %-28s %d\n", what.c_str(), n);
  std::printf("[hosts_it] before the cut: CPU %.0f%% busy\n",
              100.0 * static_cast<double>(cpu_at_cut.first - cpu_at_start.first) /
                  static_cast<double>(cpu_at_cut.second - cpu_at_start.second));
  std::printf(
      "[hosts_it] before the cut: %.1f registrations/s; invite check p50 %.1f ms, p99 %.1f ms\n",
      registered_before_cut / (at(cut_begin) - at(t0)), percentile(check_ms, 0.5),
      percentile(check_ms, 0.99));
  std::printf(
      "[hosts_it] cut: %zu requests failed (nginx 503), %d were in flight on w2 (nginx's"
      " log); %d answered by w1 during the cut, %d of them passed on from w2\n",
      failures.size(), in_flight_on_w2, served_during_cut, passed_on);
  std::printf("[hosts_it] mend: w2 answered again after");
  for (const auto& [path, after] : rejoined) std::printf(" %.1f s (%s)", after, path.c_str());
  std::printf("; %d requests served by w2 after\n", served_by_w2_after);
  std::printf("[hosts_it] w2's handlers logged %zu answers after the mend\n", w2_answers_after);
  std::printf(
      "[hosts_it] invites: %zu made; %d got all %d attempts answered and each was used"
      " exactly %d times; %d had a failed attempt\n",
      invites.size(), complete, kAttemptsPerInvite, kMaxUses, invites_with_a_failure);
  std::printf("[hosts_it] PostgreSQL: peak %d server connections;", peaks.server);
  for (const auto& [host, n] : peaks.clients) std::printf(" %s: peak %d clients;", host.c_str(), n);
  std::printf("\n");
}

// A host that vanishes between two statements of a transaction leaves its row locks held until
// PostgreSQL ends the session. Here a session from w2 takes an invite's row lock and goes quiet,
// as a handler whose link was cut would; a registration with that invite, through nginx, needs
// the lock. With the role's idle_in_transaction_session_timeout (2 s, hosts.sh) the quiet session
// is ended and the registration succeeds after waiting that long; with the timeout off for that
// session, the registration fails after DB_STATEMENT_TIMEOUT_MS (5 s) with a 503.
TEST(Hosts, ALockLeftByAQuietSessionIsReleasedAfterTheIdleTransactionTimeout) {
  ASSERT_TRUE(g_up);
  const std::string code = create_invite_on_shell(1);
  const std::string id =
      g_hosts->query("SELECT id FROM registration_invites ORDER BY created_at DESC LIMIT 1");
  const std::string url = std::string("postgresql://chatalot@") + kDbAddr +
                          (pooler() == "pgbouncer" ? ":6432" : ":5432") + "/chatalot";
  const auto quiet_session = [&](bool timeout_off) {
    const std::string sql =
        std::string("BEGIN;") +
        (timeout_off ? " SET LOCAL idle_in_transaction_session_timeout = 0;" : "") +
        " UPDATE registration_invites SET note = note WHERE id = '" + id + "';";
    // Its own process group (setsid), so that one kill ends the shell, psql and sleep.
    const pid_t pid =
        spawn({"/usr/sbin/ip", "netns", "exec", g_hosts->ns("w2"), "setsid", "/bin/sh", "-c",
               "(echo \"" + sql + "\"; sleep 30) | psql -X -q '" + url + "'"},
              {}, g_hosts->file("logs/quiet-session.log"));
    EXPECT_GT(pid, 0);
    for (int i = 0; i < 100; ++i) {
      if (g_hosts->query("SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in"
                         " transaction' AND query LIKE 'UPDATE registration_invites SET note%'") ==
          "1") {
        break;
      }
      std::this_thread::sleep_for(milliseconds(20));
    }
    return pid;
  };
  const auto register_with = [&](const std::string& tag) {
    return in_netns(g_hosts->ns("nginx"), [&] {
      Client client("127.50.0.1");
      return client.post(Kind::kRegister, "/api/auth/register",
                         registration_body(registrant(tag, code)));
    });
  };
  const auto seconds_of = [](const Call& c) {
    return std::chrono::duration<double>(c.end - c.start).count();
  };

  const pid_t stuck = quiet_session(true);
  const Call refused = register_with("quiet1");
  g_hosts->query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE query LIKE"
      " 'UPDATE registration_invites SET note%'");
  ::kill(-stuck, SIGTERM);
  wait_exit(stuck, 5000);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_GE(seconds_of(refused), 4.9);

  const pid_t ended = quiet_session(false);
  const Call served = register_with("quiet2");
  ::kill(-ended, SIGTERM);
  wait_exit(ended, 5000);
  EXPECT_EQ(served.status, 200) << served.body;
  EXPECT_GE(seconds_of(served), 1.5) << "it waited for the lock";
  EXPECT_LT(seconds_of(served), 4.5) << "less than the statement timeout";
  EXPECT_EQ(g_hosts->query("SELECT used_count FROM registration_invites WHERE id = '" + id + "'"),
            "1");
  std::printf(
      "[hosts_it] a lock left by a quiet session: registration waited %.1f s and got %d"
      " (idle_in_transaction_session_timeout 2 s); with the timeout off, %.1f s and %d\n",
      seconds_of(served), served.status, seconds_of(refused), refused.status);
}

// Why the upstreams to other hosts keep no connections. With kept connections (the single-host
// form nginx/chatalot.conf ships for unix sockets), nginx writes a request that arrives after the
// cut onto a connection it keeps to the vanished host, waits for its read timeout and, as it is
// a POST it has sent, cannot pass it on: with nothing in flight at the cut, a request still fails.
TEST(Hosts, WithKeptConnectionsARequestSentAfterTheCutFailsToo) {
  ASSERT_TRUE(g_up);
  const CommandResult kept = g_hosts->command("nginx", "kept");
  ASSERT_EQ(kept.exit_code, 0) << kept.output;
  std::this_thread::sleep_for(seconds(1));
  const std::string code = create_invite_on_shell(0);
  const auto checks = [&](const std::string& source, int n) {
    Client client(source);
    std::vector<Call> out;
    for (int i = 0; i < n; ++i) {
      out.push_back(client.post(Kind::kCheck, "/api/auth/invites/redeem", invite_check_body(code)));
    }
    return out;
  };
  // Connections to both hosts, kept by nginx's one worker; then nothing in flight.
  std::vector<std::future<std::vector<Call>>> warm;
  for (int t = 0; t < 4; ++t) {
    warm.push_back(std::async(std::launch::async, [&, t] {
      EXPECT_TRUE(enter_netns(g_hosts->ns("nginx")));
      return checks("127.60." + std::to_string(t) + ".1", 20);
    }));
  }
  for (auto& f : warm) {
    for (const Call& c : f.get()) EXPECT_EQ(c.status, 200) << c.body;
  }
  const Wall::time_point cut_begin = Wall::now();
  EXPECT_EQ(g_hosts->command("cut", "w1").exit_code, 0);
  const Wall::time_point cut_end = Wall::now();
  std::this_thread::sleep_for(milliseconds(100));  // nginx logs times to the millisecond
  const std::vector<Call> after =
      in_netns(g_hosts->ns("nginx"), [&] { return checks("127.61.0.1", 4); });
  EXPECT_EQ(g_hosts->command("mend", "w1").exit_code, 0);
  const CommandResult fresh = g_hosts->command("nginx", "new");
  EXPECT_EQ(fresh.exit_code, 0) << fresh.output;

  const std::map<std::string, Logged> logged = by_request_id(access_log());
  int in_flight_at_the_cut = 0;
  for (const auto& [id, l] : logged)
    in_flight_at_the_cut += l.start < at(cut_end) && l.end > at(cut_begin);
  EXPECT_EQ(in_flight_at_the_cut, 0);
  int failed = 0;
  for (const Call& c : after) {
    if (!nginx_failure(c)) {
      EXPECT_EQ(c.status, 200) << c.body;
      continue;
    }
    ++failed;
    const auto it = logged.find(c.request_id);
    ASSERT_NE(it, logged.end());
    EXPECT_TRUE(it->second.first_on(kW1) && it->second.upstreams.size() == 1);
    EXPECT_GT(it->second.start, at(cut_end));
  }
  EXPECT_GE(failed, 1) << "a request sent after the cut, on a kept connection to w1";
  std::printf(
      "[hosts_it] kept connections: %d in flight at the cut; of %zu requests sent after"
      " it, %d failed (nginx 503 after its read timeout)\n",
      in_flight_at_the_cut, after.size(), failed);
}

// After all of it, every handler on both worker hosts still runs, and none logged a sanitizer
// report (scripts/test runs this suite once more with sanitized handlers).
TEST(Hosts, EveryHandlerOnBothHostsStillRunsAndReportedNoError) {
  ASSERT_TRUE(g_up);
  for (const char* host : {"w1", "w2"}) {
    std::size_t handlers = 0;  // hosts.sh starts each with a log of its own
    for (const auto& entry :
         std::filesystem::directory_iterator(g_hosts->file("logs/" + std::string(host)))) {
      ++handlers;
      const std::string log = read_file(entry.path());
      const std::string name = entry.path().filename();
      EXPECT_EQ(log.find("Sanitizer"), std::string::npos) << host << " " << name;
      EXPECT_EQ(log.find("runtime error:"), std::string::npos) << host << " " << name;
      EXPECT_EQ(log.find("unhandled exception"), std::string::npos) << host << " " << name;
    }
    EXPECT_EQ(handlers, 11U) << host << ": every handler of scripts/stack's HANDLERS";
    CommandResult pids;
    for (int i = 0; i < 30; ++i) {  // what the other tests started there may take a moment to end
      pids = run_command("ip netns pids " + g_hosts->ns(host));
      if (count_of(pids.output, "\n") == handlers) break;
      std::this_thread::sleep_for(milliseconds(100));
    }
    EXPECT_EQ(count_of(pids.output, "\n"), handlers) << host << ": " << pids.output;
  }
}

}  // namespace
}  // namespace chatalot::testing
